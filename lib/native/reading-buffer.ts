/**
 * The JavaScript half of native/reading_buffer.h: a fresh reading that the addon wrote as plain
 * numbers into a Float64Array (`NativeSampler.readInto`), turned into a {@link Reading} here,
 * where building objects costs far less than through Node-API. Layout, for n domains:
 * `[timestampNs, energyUj × n, attributedUj × n, cpu.available (0/1), machineTotalS,
 * machineBusyS, processS, loadModelS, logicalCpus]`.
 */
import type { Reading } from './types.js';

/** Numbers after the energies: the CPU times of the reading. */
const CPU_FIELDS = 6;

/** Length of the buffer for a sampler with `domains` domains. */
export function readingBufferLength(domains: number): number {
  return 1 + 2 * domains + CPU_FIELDS;
}

/** The Reading the addon wrote into `buffer` for `domains` domains. */
export function readingFromBuffer(buffer: Float64Array, domains: number): Reading {
  const energyUj: number[] = [];
  const attributedUj: number[] = [];
  for (let i = 0; i < domains; i++) {
    energyUj.push(buffer[1 + i]!);
    attributedUj.push(buffer[1 + domains + i]!);
  }
  const cpu = 1 + 2 * domains;
  return {
    timestampNs: buffer[0]!,
    energyUj,
    attributedUj,
    cpu: {
      available: buffer[cpu] === 1,
      machineTotalS: buffer[cpu + 1]!,
      machineBusyS: buffer[cpu + 2]!,
      processS: buffer[cpu + 3]!,
      loadModelS: buffer[cpu + 4]!,
      logicalCpus: buffer[cpu + 5]!,
    },
  };
}
