/**
 * CodeCarbon 3.x's RAM power model (codecarbon/external/ram.py, `_estimate_dimm_count` and
 * `_calculate_ram_power`), for when no RAPL DRAM domain can be read.
 *
 * DIMM count from the memory size in GB (CodeCarbon divides bytes by 1024³, so these are GiB):
 * ≤ 2: 1; ≤ 16: 2; ≤ 64: 4 (17–32 and 33–64 both 4); ≤ 128: 8; above: with the largest
 * of 4/8/16/32/64/128 GB that is ≤ total ÷ 8, ⌈total ÷ size⌉ DIMMs, at most 32.
 *
 * Power with b = 5 W per DIMM on x86 (1.5 W on ARM): up to 4 DIMMs b each; DIMMs 5–8 at
 * 0.9 b; 9–16 at 0.8 b; above 16 at 0.7 b; at least 2 b = 10 W on x86 (3 W on ARM).
 * So 8 GB → 2 DIMMs → 10 W; 64 GB → 4 → 20 W; 128 GB → 8 → 38 W; 1 TB (1000 GB) → 16 × 64 GB
 * → 70 W. Note the heuristic's step: exactly 1024 GiB picks 128 GB DIMMs (1024 ÷ 8 = 128),
 * i.e. 8 DIMMs and 38 W, as CodeCarbon does.
 */
import { arch as osArch } from 'node:os';

/** CodeCarbon's `RAM_SLOT_POWER_X86`: watts per DIMM on x86. */
export const RAM_SLOT_POWER_X86 = 5;
/** Watts per DIMM on ARM in CodeCarbon's model. */
export const RAM_SLOT_POWER_ARM = 1.5;
/** Minimum RAM power on ARM, W. */
export const RAM_MIN_POWER_ARM = 3;

const DIMM_SIZES_GB = [4, 8, 16, 32, 64, 128];

/** Whether an architecture string names ARM (`arm`, `arm64`, `aarch64`, `armv7l`), as CodeCarbon tests `platform.machine()`. */
export function isArmArch(arch: string): boolean {
  const a = arch.toLowerCase();
  return a.includes('arm') || a.includes('aarch');
}

/** CodeCarbon's DIMM-count heuristic for `totalGiB` of memory. */
export function estimateDimmCount(totalGiB: number): number {
  if (totalGiB <= 2) return 1;
  if (totalGiB <= 16) return 2;
  if (totalGiB <= 64) return 4;
  if (totalGiB <= 128) return 8;
  let count = 8;
  for (const size of [...DIMM_SIZES_GB].reverse()) {
    if (size <= totalGiB / 8) {
      count = Math.min(Math.ceil(totalGiB / size), 32);
      break;
    }
  }
  return count;
}

/** Result of {@link ramDimmModel}. */
export interface RamModel {
  /** Estimated number of DIMMs. */
  dimmCount: number;
  /** Modelled RAM power, W (constant while the memory size does not change). */
  powerWatts: number;
}

/**
 * CodeCarbon 3.x RAM power model.
 *
 * @param totalGiB Memory size in GiB (bytes ÷ 2³⁰), as CodeCarbon's `psutil.virtual_memory().total / B_TO_GB`.
 * @param arch Architecture (`os.arch()` or `uname -m` style); ARM when it contains `arm` or `aarch`. Default: `os.arch()`.
 * @throws RangeError when `totalGiB` is negative or not finite.
 */
export function ramDimmModel(totalGiB: number, arch: string = osArch()): RamModel {
  if (!Number.isFinite(totalGiB) || totalGiB < 0) throw new RangeError(`memory size must be a finite number ≥ 0 GiB, got ${totalGiB}`);
  const dimmCount = estimateDimmCount(totalGiB);
  const arm = isArmArch(arch);
  const b = arm ? RAM_SLOT_POWER_ARM : RAM_SLOT_POWER_X86;
  const minPower = arm ? RAM_MIN_POWER_ARM : b * 2;
  let power: number;
  if (dimmCount <= 4) power = b * dimmCount;
  else if (dimmCount <= 8) power = b * 4 + b * 0.9 * (dimmCount - 4);
  else if (dimmCount <= 16) power = b * 4 + b * 0.9 * 4 + b * 0.8 * (dimmCount - 8);
  else power = b * 4 + b * 0.9 * 4 + b * 0.8 * 8 + b * 0.7 * (dimmCount - 16);
  return { dimmCount, powerWatts: Math.max(minPower, power) };
}
