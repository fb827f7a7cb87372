import { Command } from 'commander';
// Direct imports, not statement/index.js: a custom statement never loads the store.
import { customStatement, formatStatement, type PaperStatement } from '../../statement/statement.js';
import { bibtex } from '../../statement/bibtex.js';
import { listCountries } from '../../carbon/index.js';
import { parseNumber, storesFiltersFrom, type StoresFilterFlags } from '../arguments.js';
import { addFilterOptions } from './filters.js';
import { addFormatOptions, chosenFormat, ChunkedWriter, forStdout, toJson, writeOut } from '../output.js';
import { MAX_CARBON_INTENSITY } from '../../tracker/options.js';

type StatementFlags = StoresFilterFlags & {
  methodology?: string;
  hardware?: string;
  consumedEnergy?: number;
  carbonIntensity?: number;
  comparison?: boolean;
  bibtex?: boolean;
  format: 'text' | 'latex' | 'json';
  json?: boolean;
  listCountries?: boolean;
  calibrated?: boolean;
}

/** `statement`: the paper statement over stored runs, or a custom one. */
export function registerStatementCommand(program: Command): void {
  const command = new Command('statement')
    .description('print the impact statement for your paper (over stored runs, or custom with --methodology --hardware --consumed-energy)');
  addFormatOptions(addFilterOptions(command, { manyStores: true }), ['text', 'latex', 'json'], 'text')
    .option('--methodology <text>', 'custom statement: how the energy was obtained')
    .option('--hardware <text>', 'custom statement: the hardware, e.g. "NVIDIA GTX 1080 GPU"')
    .option('--consumed-energy <kWh>', 'custom statement: energy in kWh', parseNumber('--consumed-energy', { min: 0 }))
    .option('--carbon-intensity <g/kWh>', 'custom statement: carbon intensity (default 380)', parseNumber('--carbon-intensity', { min: 0, max: MAX_CARBON_INTENSITY }))
    .option('--comparison', 'add a comparison with an everyday item')
    .option('--bibtex', 'also print the BibTeX entries of the cited works (with --format json: a "bibtex" field)')
    .option('--calibrated', "apply each host's wall/sensor ratio (from its runs with a wall plug) to its runs without one, labelled a calibrated estimate")
    .option('--list-countries', 'list the ISO 3166-1 alpha-3 codes and carbon intensities known to the tracker')
    .action(async (flags: StatementFlags) => {
      const format = chosenFormat(flags, 'text') as StatementFlags['format'];
      if (flags.listCountries) {
        if (format === 'json') {
          await writeOut(`${toJson(listCountries())}\n`);
          return;
        }
        const out = new ChunkedWriter();
        for (const country of listCountries()) {
          await out.add(`${country.isoCode}  ${country.gramsPerKwh.toFixed(2).padStart(8)} gCO2/kWh  ${country.countryName}\n`);
        }
        await out.flush();
        return;
      }
      const custom = [flags.methodology, flags.hardware, flags.consumedEnergy];
      const given = custom.filter((value) => value !== undefined).length;
      if (given > 0 && given < 3) {
        throw new Error('a custom statement needs all of --methodology, --hardware and --consumed-energy');
      }
      let statement: PaperStatement;
      if (given === 3) {
        statement = customStatement({
          methodology: flags.methodology!,
          hardware: flags.hardware!,
          consumedEnergy: flags.consumedEnergy!,
          ...(flags.carbonIntensity !== undefined ? { carbonIntensity: flags.carbonIntensity } : {}),
          comparison: flags.comparison === true,
        });
      } else {
        if (flags.carbonIntensity !== undefined) {
          throw new Error('--carbon-intensity applies to custom statements; stored runs carry their own intensity');
        }
        const { loadStatement } = await import('../../statement/paper.js');
        statement = loadStatement({ ...storesFiltersFrom(flags), comparison: flags.comparison === true, calibrated: flags.calibrated === true });
      }
      const entries = flags.bibtex ? bibtex(statement.citations) : null;
      if (format === 'json') {
        await writeOut(`${toJson(entries === null ? statement : { ...statement, bibtex: entries })}\n`);
        return;
      }
      await writeOut(forStdout(`${formatStatement(statement, format)}\n${entries === null ? '' : `\n${entries}\n`}`));
    });
  program.addCommand(command);
}
