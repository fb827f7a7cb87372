/** BibTeX entries for the works the statement cites. */
import { COMPARISON_CITATION_KEY } from './comparison.js';
import { rejectUnknownOptions } from '../options-check.js';

/** Keys the statement may cite. */
export type CitationKey = 'lamarr_energy_tracker' | 'codecarbon' | 'ai_energy_validation' | typeof COMPARISON_CITATION_KEY;

/** The keys every statement cites, in order. */
export const STATEMENT_CITATION_KEYS: readonly CitationKey[] = Object.freeze(['lamarr_energy_tracker', 'codecarbon', 'ai_energy_validation'] as const);

const ENTRIES: Readonly<Record<CitationKey, string>> = {
  lamarr_energy_tracker: `@software{lamarr_energy_tracker,
  author = {Buschj{\\"a}ger, Sebastian and Fischer, Raphael},
  title  = {{Lamarr} {Energy} {Tracker}},
  year   = {2025},
  url    = {https://github.com/lamarr-institute/lamarr-energy-tracker},
}`,
  codecarbon: `@software{codecarbon,
  author    = {Courty, Beno{\\^\\i}t and
               Schmidt, Victor and
               Kamal, Goyal and
               others},
  title     = {mlco2/codecarbon: v3.0.8},
  year      = 2025,
  publisher = {Zenodo},
  version   = {v3.0.8},
  doi       = {10.5281/zenodo.17477894},
  url       = {https://doi.org/10.5281/zenodo.17477894},
}`,
  ai_energy_validation: `@misc{ai_energy_validation,
  title  = {Ground-Truthing {AI} Energy Consumption: {Validating} {CodeCarbon} Against External Measurements},
  author = {Raphael Fischer},
  year   = {2025},
  doi    = {10.48550/arXiv.2509.22092},
  url    = {https://arxiv.org/abs/2509.22092},
}`,
  [COMPARISON_CITATION_KEY]: `@book{${COMPARISON_CITATION_KEY},
  author    = {Berners-Lee, Mike},
  title     = {How Bad Are Bananas? {The} Carbon Footprint of Everything},
  year      = {2011},
  publisher = {Greystone Books},
}`,
};

/** Every key {@link bibtex} knows. */
export const CITATION_KEYS: readonly CitationKey[] = Object.freeze(Object.keys(ENTRIES) as CitationKey[]);

/** Which entries {@link bibtex} returns: explicit keys, or the statement's keys with or without the comparison source. */
export type BibtexSelection = readonly string[] | { comparison?: boolean };

/**
 * The BibTeX entries for the cited keys, separated by blank lines.
 * - `bibtex()`: the three keys every statement cites.
 * - `bibtex({ comparison: true })`: those plus the comparison source.
 * - `bibtex(['codecarbon'])`: the listed keys, in the given order, each once.
 * @throws {RangeError} for an unknown key.
 */
export function bibtex(selection: BibtexSelection = {}): string {
  if (!Array.isArray(selection)) rejectUnknownOptions('bibtex', selection, ['comparison']);
  const keys: readonly string[] = Array.isArray(selection)
    ? selection
    : (selection as { comparison?: boolean }).comparison === true
      ? [...STATEMENT_CITATION_KEYS, COMPARISON_CITATION_KEY]
      : STATEMENT_CITATION_KEYS;
  const seen = new Set<string>();
  const entries: string[] = [];
  for (const key of keys) {
    if (!Object.hasOwn(ENTRIES, key)) {
      throw new RangeError(`Unknown citation key ${JSON.stringify(key)}; known keys: ${CITATION_KEYS.join(', ')}`);
    }
    if (seen.has(key)) continue;
    seen.add(key);
    entries.push(ENTRIES[key as CitationKey]);
  }
  return entries.join('\n\n');
}
