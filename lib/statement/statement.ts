/**
 * The paper statement: pure functions from records (or custom numbers) to the README's text.
 *
 * "Using {methodology}, the energy consumption of running all experiments on {a|an} {hardware} is
 * estimated to {energy} {kWh|Wh}. This corresponds to estimated carbon emissions of {emissions}
 * {kg|g} of CO2-equivalents, assuming a carbon intensity of {ci} gCO2/kWh~\cite{lamarr_energy_tracker,codecarbon}.
 * Note that these numbers are underestimations of actual resource consumption and do not account
 * for overhead factors or embodied impacts~\cite{ai_energy_validation}."
 */
import { carbonIntensity as countryCarbonIntensity } from '../carbon/index.js';
import type { EmissionsRecord, LoadedRecord } from '../store/schema.js';
import { comparisonFor, COMPARISON_CITATION_KEY, type StatementComparison } from './comparison.js';
import { STATEMENT_CITATION_KEYS, type CitationKey } from './bibtex.js';
import { customHardwarePhrase } from './hardware.js';
import { summarise, type StatementSummary } from './summary.js';
import { wallPlugFromFacts, wallPlugPart, type WallPlugSummary } from '../groundtruth/statement-part.js';
import type { HostCalibration } from '../groundtruth/calibration.js';
import { formatFixed } from '../format.js';
import { rejectUnknownOptions } from '../options-check.js';
import { MAX_CARBON_INTENSITY } from '../tracker/options.js';

/** Output formats of the statement. */
export type StatementFormat = 'text' | 'latex' | 'json';

/** Options shared by every statement function. */
export interface StatementOptions {
  /** Add the comparison with an everyday item. Default false. */
  comparison?: boolean;
  /** `text` (the README's text, `\cite` included), `latex` (special characters escaped) or `json` (the numbers). Default `text`. */
  format?: StatementFormat;
  /** Apply each host's wall/sensor calibration to its runs without a wall plug (a labelled calibrated estimate). Default false. */
  calibrated?: boolean;
  /** The calibrations to apply with `calibrated` (default: computed from the records given). */
  calibrations?: readonly HostCalibration[];
}

/** The columns a statement reads from each row; `LoadedRecord` and `EmissionsRecord` both fit. */
export type StatementRecord = Pick<
  EmissionsRecord,
  | 'energy_consumed'
  | 'emissions'
  | 'cpu_model'
  | 'gpu_count'
  | 'gpu_model'
  | 'codecarbon_version'
  | 'tracker_version'
  | 'cpu_energy_method'
  | 'gpu_energy_method'
  | 'ram_energy_method'
  | 'carbon_intensity'
  | 'country_iso_code'
> &
  Partial<Pick<EmissionsRecord, 'cpu_energy' | 'gpu_energy' | 'ram_energy'>> &
  Partial<Pick<EmissionsRecord, 'pue' | 'hostname' | 'wall_energy' | 'wall_energy_method' | 'wall_energy_uncertainty'>> & {
    /** Which tool wrote the row; inferred from `tracker_version` when absent. */
    written_by?: LoadedRecord['written_by'];
  };

/** A quantity as printed in the statement. */
export interface PrintedQuantity<Unit extends string> {
  /** The printed number (rounded to three decimals, in `unit`). */
  value: number;
  unit: Unit;
  /** E.g. "0.135 kWh", "51.300 g". */
  text: string;
}

/** One hardware configuration and the energy of its runs. */
export interface HardwareConfiguration {
  /** As it reads in the statement, article included ("an Intel(R) Core(TM) i7-10610U CPU"). */
  hardware: string;
  runs: number;
  /** Exact sum of `energy_consumed`, kWh. */
  energyKwh: number;
  energy: PrintedQuantity<'kWh' | 'Wh'>;
}

/** The numbers behind a statement (the `json` format), with its text and LaTeX forms. */
export interface PaperStatement {
  methodology: string;
  /** The hardware phrase (for several configurations: "3 hardware configurations"). */
  hardware: string;
  configurations: HardwareConfiguration[];
  /** Number of rows summarised (1 for a custom statement). */
  runs: number;
  /** Exact total energy, kWh. */
  energyKwh: number;
  energy: PrintedQuantity<'kWh' | 'Wh'>;
  /** Integer gCO2/kWh used in the text (total emissions ÷ total energy, truncated). */
  carbonIntensity: number;
  /**
   * The emissions the text prints, in grams (`emissions` converted to g): carbonIntensity ×
   * the printed energy, rounded as printed. As in the Python package, the text starts from the
   * printed (rounded) energy and the truncated intensity, so on small runs it can differ by a
   * few per cent from `recordedEmissionsKg`, the unrounded sum of the rows.
   */
  emissionsGrams: number;
  emissions: PrintedQuantity<'kg' | 'g'>;
  /** Sum of the rows' `emissions` column in kg, unrounded (null for a custom statement). */
  recordedEmissionsKg: number | null;
  comparison: StatementComparison | null;
  /** The wall-plug figures where runs have them (and calibrated estimates with `calibrated`), else null. */
  wallPlug: WallPlugSummary | null;
  /** The citation keys used, in order; pass them to `bibtex()`. */
  citations: CitationKey[];
  /** The statement in text form (the README's wording, `\cite` commands included). */
  text: string;
  /** The statement with LaTeX special characters in methodology and hardware escaped. */
  latex: string;
}

/** Energy as the statement prints it: kWh with 3 decimals above 0.1 kWh, else Wh with 3 decimals. */
export function printedEnergy(kwh: number): PrintedQuantity<'kWh' | 'Wh'> {
  if (kwh > 0.1) return printed(kwh, 'kWh');
  return printed(kwh * 1000, 'Wh');
}

/** `value` as Python's `%.3f` prints it (exact ties to even: 0.5625 → "0.562"), and that number. */
function printed<U extends string>(value: number, unit: U): PrintedQuantity<U> {
  const digits = formatFixed(value, 3);
  return { value: Number(digits), unit, text: `${digits} ${unit}` };
}

/** Emissions as the statement prints them: kg with 3 decimals from 10 g on, else g with 3 decimals. */
export function printedEmissions(grams: number): PrintedQuantity<'kg' | 'g'> {
  if (grams >= 10) return printed(grams / 1000, 'kg');
  return printed(grams, 'g');
}

/** Removes float noise (380 × 0.135 = 51.300000000000004) before rounding or truncating. */
function clean(value: number): number {
  return Number(value.toPrecision(12));
}

/** Grams of CO2e for the printed energy at an integer intensity. */
function gramsFor(energy: PrintedQuantity<'kWh' | 'Wh'>, intensity: number): number {
  return clean(energy.unit === 'kWh' ? intensity * energy.value : (intensity * energy.value) / 1000);
}

/** Escapes what LaTeX treats specially: \ { } % $ & # _ ~ ^. */
export function escapeLatex(text: string): string {
  return text.replace(/[\\{}%$&#_~^]/g, (c) => {
    switch (c) {
      case '\\':
        return '\\textbackslash{}';
      case '~':
        return '\\textasciitilde{}';
      case '^':
        return '\\textasciicircum{}';
      default:
        return `\\${c}`;
    }
  });
}

interface Parts {
  methodology: string;
  /** Single-configuration hardware phrase, or null when there are several. */
  hardware: string | null;
  configurations: readonly HardwareConfiguration[];
  energy: PrintedQuantity<'kWh' | 'Wh'>;
  emissions: PrintedQuantity<'kg' | 'g'>;
  carbonIntensity: number;
  wallPlug: WallPlugSummary | null;
}

function render(parts: Parts, comparison: boolean, emissionsGrams: number, latex: boolean): { text: string; comparison: StatementComparison | null } {
  const esc = latex ? escapeLatex : (s: string): string => s;
  const wall = parts.wallPlug === null ? '' : latex ? parts.wallPlug.text.replace(/%/g, '\\%') : parts.wallPlug.text;
  let usage: string;
  if (parts.hardware !== null) {
    usage = `on ${esc(parts.hardware)} is estimated to ${parts.energy.text}${wall}.`;
  } else {
    const each = parts.configurations.map((c) => `${c.energy.text} on ${esc(c.hardware)}`).join('; ');
    usage = `on ${parts.configurations.length} hardware configurations is estimated to ${parts.energy.text} in total (${each})${wall}.`;
  }
  const sentences = [
    `Using ${esc(parts.methodology)}, the energy consumption of running all experiments ${usage}`,
    `This corresponds to estimated carbon emissions of ${parts.emissions.text} of CO2-equivalents, assuming a carbon intensity of ${parts.carbonIntensity} gCO2/kWh~\\cite{lamarr_energy_tracker,codecarbon}.`,
    'Note that these numbers are underestimations of actual resource consumption and do not account for overhead factors or embodied impacts~\\cite{ai_energy_validation}.',
  ];
  const chosen = comparison ? comparisonFor(emissionsGrams, latex ? '\\%' : '%') : null;
  if (chosen !== null) sentences.push(chosen.sentence);
  return { text: sentences.join(' '), comparison: chosen };
}

function assemble(parts: Parts, runs: number, energyKwh: number, recordedEmissionsKg: number | null, options: StatementOptions): PaperStatement {
  // The number the text prints, in grams (so JSON and text agree).
  const emissionsGrams = parts.emissions.unit === 'kg' ? clean(parts.emissions.value * 1000) : parts.emissions.value;
  const plain = render(parts, options.comparison === true, emissionsGrams, false);
  const latex = render(parts, options.comparison === true, emissionsGrams, true);
  const citations: CitationKey[] = [...STATEMENT_CITATION_KEYS];
  if (plain.comparison !== null) citations.push(COMPARISON_CITATION_KEY);
  return {
    methodology: parts.methodology,
    hardware: parts.hardware ?? `${parts.configurations.length} hardware configurations`,
    configurations: parts.configurations.map((c) => ({ ...c })),
    runs,
    energyKwh,
    energy: parts.energy,
    carbonIntensity: parts.carbonIntensity,
    emissionsGrams,
    emissions: parts.emissions,
    recordedEmissionsKg,
    comparison: plain.comparison,
    wallPlug: parts.wallPlug,
    citations,
    text: plain.text,
    latex: latex.text,
  };
}

/** The statement in the requested format: text, LaTeX, or the JSON of {@link PaperStatement}. */
export function formatStatement(statement: PaperStatement, format: StatementFormat = 'text'): string {
  if (format === 'latex') return statement.latex;
  if (format === 'json') return JSON.stringify(statement, null, 2);
  if (format === 'text') return statement.text;
  throw new RangeError(`format must be "text", "latex" or "json", got ${JSON.stringify(format)}`);
}

function checkOptions(options: StatementOptions, where = 'statementFromRecords', extra: readonly string[] = []): void {
  rejectUnknownOptions(where, options, ['format', 'comparison', 'calibrated', 'calibrations', ...extra]);
  if (options.format !== undefined && options.format !== 'text' && options.format !== 'latex' && options.format !== 'json') {
    throw new RangeError(`format must be "text", "latex" or "json", got ${JSON.stringify(options.format)}`);
  }
  if (options.comparison !== undefined && typeof options.comparison !== 'boolean') {
    throw new TypeError(`comparison must be a boolean, got ${typeof options.comparison}`);
  }
  if (options.calibrated !== undefined && typeof options.calibrated !== 'boolean') {
    throw new TypeError(`calibrated must be a boolean, got ${typeof options.calibrated}`);
  }
}

/**
 * The statement over tracked runs (pure: give it the rows, e.g. from `loadResults`).
 *
 * Energy is the sum of `energy_consumed` (kWh; rows without it count the sum of their
 * components); the carbon intensity is the sum of `emissions` ÷ that energy, truncated to an
 * integer; the printed emissions are that intensity × the printed energy. Rows with different
 * hardware give one configuration each, with its energy, and the total.
 * Same as `statementFromSummary(summarise(records), options)`.
 *
 * @throws {RangeError} when `records` is empty, or when no carbon intensity can be derived
 *   (all energy zero and no `carbon_intensity` or known `country_iso_code` in any row).
 */
export function statementFromRecords(records: readonly StatementRecord[], options: StatementOptions = {}): PaperStatement {
  checkOptions(options);
  if (records.length === 0) throw new RangeError('No tracked runs to summarise: the statement needs at least one record.');
  // Never merged: the exact sums would only cost time.
  const summary = summarise(records, { exactSums: false });
  // Calibration applies each host's ratio run by run: it needs the rows.
  const wallPlug = options.calibrated === true ? () => wallPlugPart(records, options, energyText) : null;
  return fromSummary(summary, options, wallPlug);
}

/**
 * The statement over the runs a {@link StatementSummary} holds (e.g. the stored aggregates):
 * the same statement as {@link statementFromRecords} over those rows.
 * @throws {RangeError} as {@link statementFromRecords}, and for `calibrated: true` (a calibrated
 *   estimate applies each host's wall/sensor ratio run by run: use the rows).
 */
export function statementFromSummary(summary: StatementSummary, options: StatementOptions = {}): PaperStatement {
  checkOptions(options);
  if (options.calibrated === true) {
    throw new RangeError('A calibrated statement needs the rows (each run gets its host\'s wall/sensor ratio): use statementFromRecords.');
  }
  return fromSummary(summary, options, null);
}

function energyText(kwh: number): string {
  return printedEnergy(kwh).text;
}

/** The statement from a summary; `wallPlug` computes the wall-plug part from rows instead of the summary (calibrated). */
function fromSummary(summary: StatementSummary, options: StatementOptions, wallPlug: (() => WallPlugSummary | null) | null): PaperStatement {
  if (summary.runs === 0) throw new RangeError('No tracked runs to summarise: the statement needs at least one record.');
  const energyKwh = summary.energyKwh;
  const emissionsKg = summary.emissionsKg;
  const fallback = summary.fallbackIntensity;
  let intensity: number;
  if (energyKwh > 0) intensity = Math.trunc(clean((emissionsKg * 1000) / energyKwh));
  else if (fallback !== null) {
    const fallbackIntensity = fallback.kind === 'intensity' ? fallback.gramsPerKwh : countryCarbonIntensity(fallback.isoCode).gramsPerKwh;
    intensity = Math.trunc(clean(fallbackIntensity));
  } else {
    throw new RangeError('Cannot derive a carbon intensity: the runs consumed no energy and name no carbon intensity or known country.');
  }
  const energy = printedEnergy(energyKwh);
  const configs: HardwareConfiguration[] = summary.configurations().map((c) => ({
    hardware: c.hardware,
    runs: c.runs,
    energyKwh: c.energyKwh,
    energy: printedEnergy(c.energyKwh),
  }));
  const parts: Parts = {
    methodology: summary.describeMethodology(),
    hardware: configs.length === 1 ? configs[0]!.hardware : null,
    configurations: configs,
    energy,
    emissions: printedEmissions(gramsFor(energy, intensity)),
    carbonIntensity: intensity,
    wallPlug: wallPlug !== null ? wallPlug() : wallPlugFromFacts(summary.wallFacts(), energyText),
  };
  return assemble(parts, summary.runs, energyKwh, emissionsKg, options);
}

/** Input of {@link customPaperStatement}. */
export interface CustomStatementInput extends StatementOptions {
  /** How the energy was obtained, e.g. "the CO2 Impact Calculator". */
  methodology: string;
  /** The hardware, e.g. "NVIDIA GTX 1080 GPU" (the article is added: "an NVIDIA GTX 1080 GPU"). */
  hardware: string;
  /** Energy in kWh. */
  consumedEnergy: number;
  /** gCO2/kWh; default 380 (Germany, truncated). Truncated to an integer like tracked statements. */
  carbonIntensity?: number;
}

/** The statement's numbers and text for energy obtained some other way (pure). */
export function customStatement(input: CustomStatementInput): PaperStatement {
  if (input === null || typeof input !== 'object') throw new TypeError('customPaperStatement expects an object');
  checkOptions(input, 'customPaperStatement', ['methodology', 'hardware', 'consumedEnergy', 'carbonIntensity']);
  const { methodology, hardware, consumedEnergy, carbonIntensity = 380 } = input;
  if (typeof methodology !== 'string' || methodology.trim() === '') throw new TypeError('methodology must be a non-empty string');
  if (typeof hardware !== 'string' || hardware.trim() === '') throw new TypeError('hardware must be a non-empty string');
  if (typeof consumedEnergy !== 'number' || !Number.isFinite(consumedEnergy) || consumedEnergy < 0) {
    throw new RangeError(`consumedEnergy must be a finite number of kWh ≥ 0, got ${String(consumedEnergy)}`);
  }
  if (typeof carbonIntensity !== 'number' || !Number.isFinite(carbonIntensity) || carbonIntensity < 0 || carbonIntensity > MAX_CARBON_INTENSITY) {
    throw new RangeError(`carbonIntensity must be a number of gCO2/kWh between 0 and ${MAX_CARBON_INTENSITY}, got ${String(carbonIntensity)}`);
  }
  const intensity = Math.trunc(clean(carbonIntensity));
  const energy = printedEnergy(consumedEnergy);
  const phrase = customHardwarePhrase(hardware);
  const parts: Parts = {
    methodology: methodology.trim(),
    hardware: phrase,
    configurations: [{ hardware: phrase, runs: 1, energyKwh: consumedEnergy, energy }],
    energy,
    emissions: printedEmissions(gramsFor(energy, intensity)),
    carbonIntensity: intensity,
    wallPlug: null,
  };
  return assemble(parts, 1, consumedEnergy, null, input);
}

/**
 * The custom statement as a string in `input.format` (default text), e.g. for
 * `{ methodology: 'the CO2 Impact Calculator', hardware: 'NVIDIA GTX 1080 GPU', consumedEnergy: 3.2 }`:
 * "Using the CO2 Impact Calculator, the energy consumption of running all experiments on an NVIDIA
 * GTX 1080 GPU is estimated to 3.200 kWh. This corresponds to estimated carbon emissions of 1.216 kg
 * of CO2-equivalents, …".
 */
export function customPaperStatement(input: CustomStatementInput): string {
  return formatStatement(customStatement(input), input.format);
}

/** Prints {@link customPaperStatement} to stdout and returns it. */
export function printCustomPaperStatement(input: CustomStatementInput): string {
  const text = customPaperStatement(input);
  process.stdout.write(`${text}\n`);
  return text;
}
