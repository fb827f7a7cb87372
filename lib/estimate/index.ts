/**
 * Estimates for when no energy counter can be read: CPU TDP lookup (CodeCarbon's table),
 * CodeCarbon's CPU load / process models and RAM DIMM model, and the pure-JavaScript
 * CPU-time sampler used when the native addon is unavailable.
 */
export {
  DEFAULT_WATTS_PER_THREAD,
  codecarbonStripCpuModel,
  loadTdpTable,
  lookupCpuTdp,
  matchCpuModel,
  normalizeCpuModel,
  type CpuMatch,
  type CpuMatchKind,
  type CpuTdpLookup,
  type MatchOptions,
  type TdpEntry,
  type TdpTable,
} from './cpu-tdp.js';
export {
  CONSTANT_MODE_SHARE,
  CPU_LOAD_MODEL,
  LOAD_MODEL_IDLE_SHARE,
  cpuConstantModePower,
  cpuLoadModelPower,
  cpuTimesDelta,
  estimateCpuEnergyJ,
  loadModelFactor,
  machineCpuEnergyJ,
  machineLoadFraction,
  processCpuEnergyJ,
  processCpuShare,
  type CpuEstimateMode,
  type CpuTimesDelta,
} from './cpu-power.js';
export {
  RAM_MIN_POWER_ARM,
  RAM_SLOT_POWER_ARM,
  RAM_SLOT_POWER_X86,
  estimateDimmCount,
  isArmArch,
  ramDimmModel,
  type RamModel,
} from './ram.js';
export { JsCpuSampler, type JsCpuSamplerOptions } from './js-sampler.js';
