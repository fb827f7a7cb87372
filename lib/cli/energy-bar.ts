/**
 * The per-run bar of `results`: the run's energy by component, scaled to the largest run
 * listed, in a fixed number of character cells (eighths of a cell for the total's end).
 * CPU █, GPU ▓, RAM ░; on a colour terminal CPU is blue, GPU green, RAM yellow, and an
 * estimated component is dim. No colour when `NO_COLOR` is set (non-empty) or the output is
 * not a terminal.
 */
import type { EmissionsRecord } from '../store/schema.js';

/** Width of the bar in character cells. */
export const ENERGY_BAR_WIDTH = 16;

const GLYPHS = { cpu: '█', gpu: '▓', ram: '░' } as const;
const COLOURS = { cpu: 34, gpu: 32, ram: 33 } as const;
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** Whether to colour output on `stream` (a TTY, and `NO_COLOR` unset or empty). */
export function useColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const noColour = env.NO_COLOR;
  return stream.isTTY === true && (noColour === undefined || noColour === '');
}

type BarRecord = Pick<EmissionsRecord, 'cpu_energy' | 'gpu_energy' | 'ram_energy' | 'cpu_energy_method' | 'gpu_energy_method' | 'ram_energy_method'>;

/**
 * The bar of one run, exactly {@link ENERGY_BAR_WIDTH} cells wide (padded with spaces).
 * @param maxKwh the largest run's energy (the full width).
 */
export function energyBar(record: BarRecord, maxKwh: number, colour: boolean): string {
  const parts = (['cpu', 'gpu', 'ram'] as const).map((name) => ({
    name,
    kwh: Math.max(0, record[`${name}_energy`] ?? 0),
    estimated: !record[`${name}_energy_method`].startsWith('measured:'),
  }));
  const total = parts.reduce((sum, part) => sum + part.kwh, 0);
  if (!(maxKwh > 0) || !(total > 0)) return ' '.repeat(ENERGY_BAR_WIDTH);
  // Cells per component by cumulative rounding (they add up to the rounded total), in eighths.
  const eighths = Math.max(1, Math.round((total / maxKwh) * ENERGY_BAR_WIDTH * 8));
  const fullCells = Math.floor(eighths / 8);
  let out = '';
  let cumulative = 0;
  let cellsSoFar = 0;
  for (const part of parts) {
    cumulative += part.kwh;
    const upTo = Math.round((cumulative / total) * fullCells);
    const cells = upTo - cellsSoFar;
    cellsSoFar = upTo;
    if (cells <= 0) continue;
    const text = GLYPHS[part.name].repeat(cells);
    out += colour ? `\u001b[${part.estimated ? '2;' : ''}${COLOURS[part.name]}m${text}\u001b[0m` : text;
  }
  const rest = EIGHTHS[eighths % 8]!;
  if (rest !== '') {
    const last = [...parts].reverse().find((part) => part.kwh > 0)!;
    out += colour ? `\u001b[${COLOURS[last.name]}m${rest}\u001b[0m` : rest;
  }
  return out + ' '.repeat(ENERGY_BAR_WIDTH - fullCells - (rest === '' ? 0 : 1));
}

/** The legend line under a table with bars. */
export function energyBarLegend(colour: boolean): string {
  const key = (name: keyof typeof GLYPHS, label: string) => (colour ? `\u001b[${COLOURS[name]}m${GLYPHS[name]}\u001b[0m ${label}` : `${GLYPHS[name]} ${label}`);
  return `bar: ${key('cpu', 'CPU')}  ${key('gpu', 'GPU')}  ${key('ram', 'RAM')}, scaled to the largest run listed${colour ? '; dim = estimated' : ''}`;
}
