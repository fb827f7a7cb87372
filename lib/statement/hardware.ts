/**
 * Natural hardware names from the `cpu_model`, `gpu_count` and `gpu_model` columns:
 * "an Intel(R) Core(TM) i7-10610U CPU and 2 NVIDIA H200 GPUs".
 */
import { withArticle } from './article.js';

/** One kind of GPU and how many of it. */
export interface GpuGroup {
  count: number;
  /** The model name, '' when unknown. */
  name: string;
}

/** The CPU model as a noun: clock speed (from " @ ") cut off, spaces collapsed, "CPU" added when missing. */
export function cpuName(cpuModel: string): string {
  let name = cpuModel.split(' @ ')[0]!.replace(/\s+/g, ' ').trim();
  if (name === '' || /^(unknown|n\/a|none)$/i.test(name)) return '';
  if (/\b(CPU|Processor|APU)\b/i.test(name)) return name;
  const withIndex = name.search(/ with /i);
  if (withIndex > 0) return `${name.slice(0, withIndex)} CPU${name.slice(withIndex)}`;
  name = `${name} CPU`;
  return name;
}

/**
 * The GPUs of a row. Understands CodeCarbon's `"4 x NVIDIA A100"`, comma-separated
 * `"2 x NVIDIA A100, 1 x NVIDIA T4"`, Python list reprs `"['NVIDIA A100', 'NVIDIA A100']"`, and a
 * plain model name counted by `gpu_count`. Returns `[]` when there is no GPU.
 */
export function parseGpus(gpuModel: string, gpuCount: number | null): GpuGroup[] {
  const model = gpuModel.trim();
  const count = gpuCount !== null && Number.isFinite(gpuCount) && gpuCount > 0 ? Math.round(gpuCount) : 0;
  if (model === '' || /^(none|nan|null|unknown)$/i.test(model)) return count > 0 ? [{ count, name: '' }] : [];
  const groups = new Map<string, number>();
  const add = (name: string, n: number): void => {
    const clean = name.replace(/\s+/g, ' ').trim();
    groups.set(clean, (groups.get(clean) ?? 0) + n);
  };
  let parts: string[];
  if (model.startsWith('[') && model.endsWith(']')) {
    parts = model
      .slice(1, -1)
      .split(',')
      .map((part) => part.trim().replace(/^['"]|['"]$/g, '').trim())
      .filter((part) => part !== '');
  } else {
    const split = model.split(',').map((part) => part.trim());
    parts = split.length > 1 && split.every((part) => /^\d+\s*[x×]\s*\S/.test(part)) ? split : [model];
  }
  if (parts.length === 0) return count > 0 ? [{ count, name: '' }] : [];
  for (const part of parts) {
    const counted = /^(\d+)\s*[x×]\s*(.+)$/.exec(part);
    if (counted !== null) add(counted[2]!, Number(counted[1]));
    else add(part, parts.length === 1 ? Math.max(count, 1) : 1);
  }
  return [...groups].map(([name, n]) => ({ name, count: n }));
}

/** A GPU group as a noun phrase: "an NVIDIA H200 GPU", "2 NVIDIA H200 GPUs", "4 GPUs". */
export function gpuPhrase(group: GpuGroup): string {
  const noun = group.name === '' ? 'GPU' : /\bGPUs?$/i.test(group.name) ? group.name.replace(/s$/, '') : /\bGPU\b/i.test(group.name) ? group.name : `${group.name} GPU`;
  if (group.count === 1) return withArticle(noun);
  return /GPU$/i.test(noun) ? `${group.count} ${noun}s` : `${group.count} × ${noun}`;
}

/** Joins phrases as English does: "a", "a and b", "a, b and c". */
export function joinAnd(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]!}`;
}

/**
 * The hardware of a row as it reads in the statement, articles included:
 * "an Intel(R) Core(TM) i7-10610U CPU and 2 NVIDIA H200 GPUs". '' when nothing is known.
 */
export function describeHardware(cpuModel: string, gpuCount: number | null, gpuModel: string): string {
  const cpu = cpuName(cpuModel);
  const parts = [cpu === '' ? '' : withArticle(cpu), ...parseGpus(gpuModel, gpuCount).map(gpuPhrase)].filter((p) => p !== '');
  return joinAnd(parts);
}

/**
 * A hardware name supplied by the user, with its article unless it starts with a count
 * ("NVIDIA GTX 1080 GPU" → "an NVIDIA GTX 1080 GPU"; "2 NVIDIA A100 GPUs" stays as is).
 */
export function customHardwarePhrase(hardware: string): string {
  const name = hardware.trim();
  if (/^\d+\s*[x×]?\s+\S/.test(name) || /^(a|an|the|one|two|three|four|several|multiple)\s/i.test(name)) return name;
  return withArticle(name);
}
