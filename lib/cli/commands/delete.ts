import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { emissionsFile } from '../../store/index.js';
import { forEachResult } from '../../store/query.js';
import { deleteRunsAndTimelines } from '../../timeline/delete-results.js';
import { filtersFrom, type FilterFlags } from '../arguments.js';
import { addFilterOptions } from './filters.js';
import { addFormatOptions, chosenFormat, forStdout, toJson, writeOut } from '../output.js';

interface DeleteFlags extends FilterFlags {
  yes?: boolean;
  format: 'text' | 'json';
  json?: boolean;
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new Error('refusing to delete without confirmation: stdin is not a terminal; pass --yes to confirm');
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

/** `delete`: delete stored runs matching the filters (all of them without filters). */
export function registerDeleteCommand(program: Command): void {
  const command = new Command('delete').description('delete stored runs matching the filters (the whole file without filters)');
  addFormatOptions(addFilterOptions(command), ['text', 'json'], 'text')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (flags: DeleteFlags) => {
      const json = chosenFormat(flags, 'text') === 'json';
      const filters = filtersFrom(flags);
      let matching = 0; // counted a part at a time: a store of any size
      forEachResult(filters, () => void matching++);
      const file = emissionsFile(flags.outputDir);
      const report = (deleted: number, text: string, timelines = 0): Promise<void> =>
        writeOut(json ? `${toJson({ file, matched: matching, deleted, timelines })}\n` : forStdout(text));
      if (matching === 0) {
        await report(0, `No stored runs match in ${file}.\n`);
        return;
      }
      if (!flags.yes && !(await confirm(`Delete ${matching} run(s) from ${file}?`))) {
        await report(0, 'Nothing deleted.\n');
        return;
      }
      const { runs: deleted, timelines } = deleteRunsAndTimelines(filters);
      await report(deleted, `Deleted ${deleted} run(s) from ${file}${timelines > 0 ? ` and ${timelines} power timeline(s)` : ''}.\n`, timelines);
    });
  program.addCommand(command);
}
