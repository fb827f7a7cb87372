/**
 * `probe()`: every energy sensor this machine exposes and every one that exists but cannot be
 * read, with the reason and the fix. Opens a sampler for discovery and closes it again at once;
 * starts no thread.
 */
import { loadNativeBinding } from './loader.js';
import { rejectUnknownOptions } from '../options-check.js';
import type { NativeSamplerOptions, ProbeResult } from './types.js';

export type { ProbeResult } from './types.js';

/** List the sensors found and those that could not be read (throws `NativeLoadError` without the addon). */
export function probe(options: NativeSamplerOptions = {}): ProbeResult {
  rejectUnknownOptions('probe', options, ['hardwareRoot', 'nvmlLibrary', 'gpuIds', 'attributionPid', 'includeDescendants']);
  const binding = loadNativeBinding();
  const sampler = new binding.Sampler(options);
  try {
    return sampler.probe();
  } finally {
    sampler.close();
  }
}
