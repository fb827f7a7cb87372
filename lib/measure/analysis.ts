/**
 * The figures of a measurement, from its batches and idle windows: per-call energy, idle
 * subtraction, 95% intervals and the quality labels. Pure: no counter is read here.
 */
import type { UnavailableSensor } from '../native/types.js';
import { summedDomainIndices } from '../native/domains.js';
import { combine, estimateMean, interval95, type MeanEstimate } from './stats.js';
import type { MeasurementPlan } from './plan.js';
import type { RunResult } from './runner.js';
import { emptyFigure, type DomainEnergy, type EnergyFigure, type EnergyMeasurement } from './types.js';

/** A group of domains whose energies are summed (one domain, a device, or everything). */
interface Channel {
  label: string;
  /** Positions in the measured-domain list. */
  members: number[];
  /** Quantisation of the sum, µJ. */
  resolutionUj: number;
  minBatchEnergyUj: number;
}

/** Sensors that exist but cannot be read, as a sentence for a message ('' when none). */
export function describeUnavailable(unavailable: readonly UnavailableSensor[]): string {
  if (unavailable.length === 0) return '';
  return (
    ' Unreadable sensors: ' +
    unavailable.map((u) => `${u.target}: ${u.reason}${u.fix ? ` (fix: ${u.fix})` : ''}`).join('; ') +
    '.'
  );
}

/** Everything the analysis needs besides the plan and the run. */
export interface AnalysisContext {
  /** The budget, ms (named in the below-resolution reasons). */
  maxTimeMs: number;
  unavailable: readonly UnavailableSensor[];
  /** Wall time of the whole measurement, ms. */
  elapsedMs: number;
}

/** The figures of a run measured as planned. */
export function analyseMeasurement(plan: MeasurementPlan, run: RunResult, context: AnalysisContext): EnergyMeasurement {
  const { domains, given, domainMinUj, domainMinMs, minBatchMs, powerOnly } = plan;
  const { records, idle, callsPerBatch: n } = run;
  const { unavailable } = context;
  const summed = new Set(summedDomainIndices(domains));
  const durationsS = records.map((r) => r.durationNs / 1e9);
  const timeEst = estimateMean(durationsS.map((t) => t / n));
  const timeCi = interval95(timeEst);
  const meanBatchMs = (timeEst.mean * n) * 1e3;

  const analyse = (ch: Channel, criteriaMet: boolean, criteriaWhy: string): EnergyFigure & { idle: MeanEstimate | null } => {
    const batchUj = records.map((r) => ch.members.reduce((s, k) => s + r.energyUj[k]!, 0));
    // idle estimate for the channel: given part (exact) + measured part (windows)
    let givenW = 0;
    const measuredMembers: number[] = [];
    for (const k of ch.members) {
      const g = given[k];
      if (g !== null && g !== undefined) givenW += g;
      else measuredMembers.push(k);
    }
    let idleEst: MeanEstimate;
    if (measuredMembers.length === 0) idleEst = { mean: givenW, varianceOfMean: 0, df: Infinity };
    else {
      const windowsW = idle.map((w) => measuredMembers.reduce((s, k) => s + w.energyUj[k]!, 0) / 1e6 / (w.durationNs / 1e9));
      const m = estimateMean(windowsW);
      idleEst = { mean: m.mean + givenW, varianceOfMean: m.varianceOfMean, df: m.df };
    }
    const totalPerOp = estimateMean(batchUj.map((e) => e / 1e6 / n));
    const meanBatchUj = batchUj.reduce((s, e) => s + e, 0) / batchUj.length;
    const sumE = batchUj.reduce((s, e) => s + e, 0) / 1e6;
    const sumT = durationsS.reduce((s, t) => s + t, 0);
    const base: EnergyFigure = {
      ...emptyFigure('measured', ''),
      idlePowerW: Number.isFinite(idleEst.mean) ? idleEst.mean : null,
      batchEnergyJ: meanBatchUj / 1e6,
      minBatchEnergyJ: ch.minBatchEnergyUj / 1e6,
    };
    // Upper bound of the active energy per call, from the totals (one step of slack per batch).
    const totalHigh = (Math.max(...batchUj) + ch.resolutionUj) / 1e6 / n;
    if (!criteriaMet) {
      return {
        ...base,
        quality: 'below-resolution',
        message: `${ch.label}: below resolution: ${criteriaWhy}`,
        upperBoundJ: totalHigh,
        idle: idleEst,
      };
    }
    // Active per call: series y_b = (E_b − P̂ t_b)/n, plus the idle estimate's own error × time per call.
    const ySeries = records.map((r, b) => (batchUj[b]! / 1e6 - idleEst.mean * (r.durationNs / 1e9)) / n);
    const yEst = estimateMean(ySeries);
    const activeEst = combine(1, yEst, -timeEst.mean, { mean: 0, varianceOfMean: idleEst.varianceOfMean, df: idleEst.df });
    const activeCi = interval95(activeEst);
    const totalCi = interval95(totalPerOp);
    const withTotals: EnergyFigure = {
      ...base,
      totalJ: totalPerOp.mean,
      totalCi95J: totalCi ? { low: totalCi.low, high: totalCi.high } : null,
      meanPowerW: sumT > 0 ? sumE / sumT : null,
    };
    const stepJ = ch.resolutionUj / 1e6;
    // Resolved: the interval excludes zero (or, with a single batch, the active energy of the
    // batch exceeds one counter step). Otherwise only an upper bound is honest.
    const resolved = activeCi ? activeCi.low > 0 || activeCi.high < 0 : Math.abs(activeEst.mean * n) > stepJ;
    if (!resolved) {
      const high = activeCi ? activeCi.high : activeEst.mean + stepJ / n;
      return {
        ...withTotals,
        quality: 'below-resolution',
        message:
          `${ch.label}: below resolution: the active energy is not distinguishable from idle` +
          (activeCi ? ` (95% interval ${fmtJ(activeCi.low)} … ${fmtJ(activeCi.high)} per call` : ' (one batch') +
          `; counter step ${fmtJ(stepJ)} per batch of ${n} calls)`,
        upperBoundJ: Math.max(0, high),
        idle: idleEst,
      };
    }
    const message = `${ch.label}: measured over ${records.length} batches of ${n} calls`;
    return {
      ...withTotals,
      quality: 'measured',
      message,
      activeJ: activeEst.mean,
      activeCi95J: activeCi ? { low: activeCi.low, high: activeCi.high } : null,
      idle: idleEst,
    };
  };

  const criteria = (members: number[]): { met: boolean; why: string } => {
    const reasons: string[] = [];
    for (const k of members) {
      const d = domains[k]!;
      const minE = Math.min(...records.map((r) => r.energyUj[k]!));
      if (minE < domainMinUj[k]!) {
        reasons.push(
          `${d.name}: a batch accumulated ${fmtJ(minE / 1e6)}, less than ${fmtJ(domainMinUj[k]! / 1e6)} (${Math.round(
            domainMinUj[k]! / Math.max(d.resolutionUj, 1e-9),
          )} counter steps of ${d.resolutionUj} µJ)`,
        );
      }
      if (meanBatchMs < domainMinMs[k]! * 0.95) {
        reasons.push(
          `${d.name}: batches of ${meanBatchMs.toFixed(1)} ms are shorter than ${domainMinMs[k]} ms (50 × the counter's update period of ${d.updatePeriodMs} ms)`,
        );
      }
    }
    if (reasons.length > 0) reasons.push(`within maxTimeMs = ${context.maxTimeMs} ms; raise it, or restrict devices`);
    return { met: reasons.length === 0, why: reasons.join('; ') };
  };

  const domainResults: DomainEnergy[] = domains.map((d, k) => {
    const c = criteria([k]);
    const fig = analyse(
      { label: d.name, members: [k], resolutionUj: d.resolutionUj, minBatchEnergyUj: domainMinUj[k]! },
      c.met,
      c.why,
    );
    const perPhase = (phase: 'before' | 'after'): number | null => {
      if (given[k] !== null) return null;
      const ws = idle.filter((w) => w.phase === phase);
      if (ws.length === 0) return null;
      const e = ws.reduce((s, w) => s + w.energyUj[k]!, 0) / 1e6;
      const t = ws.reduce((s, w) => s + w.durationNs, 0) / 1e9;
      return t > 0 ? e / t : null;
    };
    const { idle: _idle, ...figure } = fig;
    return {
      ...figure,
      domain: d,
      idleBeforeW: perPhase('before'),
      idleAfterW: perPhase('after'),
      idleSource: given[k] !== null ? 'given' : 'measured',
      summed: summed.has(k),
    };
  });

  const group = (label: string, members: number[]): EnergyFigure | null => {
    if (members.length === 0) return null;
    const c = criteria(members);
    const { idle: _idle, ...figure } = analyse(
      {
        label,
        members,
        resolutionUj: members.reduce((s, k) => s + domains[k]!.resolutionUj, 0),
        minBatchEnergyUj: members.reduce((s, k) => s + domainMinUj[k]!, 0),
      },
      c.met,
      c.why,
    );
    return figure;
  };
  const cpu = group('cpu', summedDomainIndices(domains, 'cpu'));
  const gpu = group('gpu', summedDomainIndices(domains, 'gpu'));
  const overall = group('all devices', summedDomainIndices(domains)) ?? emptyFigure('no-sensor', 'no top-level domain');

  // The overall quality is that of the sum of the top-level domains: a subzone that does not
  // move (an idle `uncore`) is labelled on its own without hiding the package's figure.
  const quality = overall.quality;
  const notes: string[] = [];
  for (const d of domainResults) {
    if (d.idleBeforeW !== null && d.idleAfterW !== null) {
      const hi = Math.max(d.idleBeforeW, d.idleAfterW);
      const lo = Math.min(d.idleBeforeW, d.idleAfterW);
      if (hi > 0 && (hi - lo) / hi > 0.2) {
        notes.push(`${d.domain.name}: idle power drifted from ${d.idleBeforeW.toFixed(2)} W to ${d.idleAfterW.toFixed(2)} W`);
      }
    }
  }
  const unresolved = domainResults.filter((d) => d.quality !== 'measured').map((d) => d.domain.name);
  if (quality === 'measured' && unresolved.length > 0) notes.push(`below resolution on its own: ${unresolved.join(', ')}`);
  if (powerOnly > 0) notes.push(`${powerOnly} GPU domain(s) with power samples only were left out`);
  const message =
    (quality === 'measured'
      ? `Measured: ${records.length} batches of ${n} calls (${meanBatchMs.toFixed(1)} ms each).`
      : `Below resolution: ${overall.message}.`) +
    (notes.length > 0 ? ` Notes: ${notes.join('; ')}.` : '') +
    describeUnavailable(unavailable);

  return {
    ...overall,
    quality,
    message,
    devices: { cpu, gpu },
    domains: domainResults,
    timePerOpS: timeEst.mean,
    timePerOpCi95S: timeCi ? { low: timeCi.low, high: timeCi.high } : null,
    iterations: n * records.length,
    batches: records.length,
    iterationsPerBatch: n,
    batchMs: meanBatchMs,
    batchDurationsMs: records.map((r) => r.durationNs / 1e6),
    minBatchMs,
    elapsedMs: context.elapsedMs,
    async: run.isAsync,
    unavailable,
  };
}

function fmtJ(j: number): string {
  const a = Math.abs(j);
  if (a >= 1) return `${j.toFixed(3)} J`;
  if (a >= 1e-3) return `${(j * 1e3).toFixed(3)} mJ`;
  return `${(j * 1e6).toFixed(3)} µJ`;
}
