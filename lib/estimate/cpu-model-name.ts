/**
 * The transformations of a CPU model name that the TDP matcher compares (see cpu-tdp.ts):
 * CodeCarbon's stripping (step 2), our normalisation (step 3) and rapidfuzz's word set
 * (step 4). Shared by the matcher that scans a table and by the index of the packaged table
 * (cpu-tdp-index.ts), which scripts/build-tdp-table.ts builds with these same functions.
 */

/**
 * CodeCarbon's stripping of a raw model name (step 2): remove `(R)`, cut at ` CPU @ `, remove
 * ` CPU`, remove ` @ N.NNGHz`. Case and `(TM)` are left as they are.
 */
export function codecarbonStripCpuModel(raw: string): string {
  let model = raw.replaceAll('(R)', '');
  const cut = model.indexOf(' CPU @ ');
  if (cut > 0) model = model.slice(0, cut);
  model = model.replaceAll(' CPU', '');
  return model.includes(' @') ? model.replace(/ @\s*\d+\.\d+GHz/g, '') : model;
}

/**
 * Normalise a CPU model name for comparison: remove `(R)`, `(TM)` (any case), the word `CPU`,
 * the clock speed (`@ 2.60GHz`), collapse white space, trim and lower-case.
 *
 * @example normalizeCpuModel('Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz') === 'intel core i7-10610u'
 */
export function normalizeCpuModel(name: string): string {
  // Each removal only where its text can be (most table rows have none of them): a lookup
  // normalises a few hundred rows once per process, before the JIT has compiled the regexes.
  let text = name;
  if (text.includes('(')) text = text.replace(/\((?:r|tm)\)/gi, ' ');
  if (text.includes('@')) text = text.replace(/@\s*\d+(?:\.\d+)?\s*[gm]hz/gi, ' ');
  if (text.toLowerCase().includes('cpu')) text = text.replace(/\bcpu\b/gi, ' ');
  return (hasOnlySingleInnerSpaces(text) ? text : text.replace(/\s+/g, ' ').trim()).toLowerCase();
}

/**
 * Whether `text` is printable ASCII whose only white space is single spaces between other
 * characters: then collapsing white space and trimming leave it as it is. (A quick check that
 * spares most names the regular expression, which costs more than the rest the first time.)
 */
function hasOnlySingleInnerSpaces(text: string): boolean {
  const last = text.length - 1;
  for (let i = 0; i <= last; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 ? i === 0 || i === last || text.charCodeAt(i - 1) === 32 : c < 33 || c > 126) return false;
  }
  return true;
}

/** rapidfuzz `utils.default_process` then whitespace split: the word set used by `token_set_ratio`. */
export function cpuModelWords(text: string): Set<string> {
  const words = new Set<string>();
  // ASCII text (the table's names, nearly all): the words are the runs of letters and digits,
  // lower-cased; found with a loop, without the regular expressions the general case needs.
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32;
    if (c > 127) return unicodeWords(text);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      words.add(text.slice(start, i).toLowerCase());
      start = -1;
    }
  }
  return words;
}

/** {@link cpuModelWords} of any text: every character but a letter or digit is a separator. */
function unicodeWords(text: string): Set<string> {
  const processed = text.replace(/[^\p{L}\p{N}]/gu, ' ').toLowerCase().trim();
  return new Set(processed.split(/\s+/).filter((t) => t !== ''));
}
