/**
 * "a" or "an" before a hardware name, by how the name is pronounced, not how it is spelled:
 * an Intel, an NVIDIA (en-vidia), an AMD (ay-em-dee), an H100 (aitch), an 8-core, an 11th Gen,
 * a GPU, a Xeon (zee-on), a USB, a one-socket, a 1080.
 */

/** Letters whose spoken name starts with a vowel sound: A E F H I L M N O R S X. */
const VOWEL_SOUND_LETTERS = new Set(['A', 'E', 'F', 'H', 'I', 'L', 'M', 'N', 'O', 'R', 'S', 'X']);

/** Upper-case words read as words, not letter by letter. */
const ACRONYMS_READ_AS_WORDS = new Set([
  'RAM', 'ROM', 'NUMA', 'SPARC', 'RISC', 'MIPS', 'SIMD', 'LAPACK', 'CUDA', 'RADEON', 'TESLA', 'QUADRO', 'GEFORCE',
  'EPYC', 'ASIC', 'INTEL', 'APPLE', 'ARM', 'AMPERE', 'XEON', 'UNIX', 'ULTRA', 'OPTERON', 'ATHLON', 'ITANIUM',
]);

/** Words starting with a silent h. */
const SILENT_H = /^(hour|honest|honou?r|heir)/i;

/** Words starting with u that sound like "you". */
const U_AS_YOU = /^(uni|use|usu|uti|ura|ure|uro|ufo|uk|ube|ugand)/i;

/**
 * The English word for the leading number, as far as its first sound: the first
 * group of three digits decides (8, 11, 18, 80–89, 800–899 → "an").
 */
function numberTakesAn(digits: string): boolean {
  const n = digits.replace(/^0+(?=\d)/, '');
  const lead = n.length % 3 === 0 ? n.slice(0, 3) : n.slice(0, n.length % 3);
  if (lead === '11' || lead === '18') return true;
  return lead.startsWith('8');
}

/**
 * The indefinite article for `phrase` ("a" or "an").
 * @param phrase a noun phrase such as "NVIDIA GTX 1080 GPU"
 */
export function indefiniteArticle(phrase: string): 'a' | 'an' {
  const text = phrase.trim().replace(/^[\s"'“‘([{]+/, '');
  if (text === '') return 'a';
  const number = /^(\d[\d,]*)/.exec(text);
  if (number !== null) return numberTakesAn(number[1]!.replace(/,/g, '')) ? 'an' : 'a';
  const word = /^[A-Za-z]+/.exec(text)?.[0] ?? '';
  if (word === '') return 'a';
  const upper = word.toUpperCase();
  // Initialism: all capitals (AMD, HPC, RTX), a single capital letter (H100, A100, M1),
  // or a lower-case prefix letter before a capital (eGPU, iPhone, vGPU).
  const isAllCaps = word === upper && !ACRONYMS_READ_AS_WORDS.has(upper);
  const prefixLetter = /^[a-z][A-Z]/.test(text);
  // A lone letter before a digit or hyphen is spelled out too: x86 ("ex"), i7 ("eye"), T4.
  const loneLetter = word.length === 1 && /^[A-Za-z](?![A-Za-z])/.test(text);
  if (isAllCaps || prefixLetter || loneLetter) return VOWEL_SOUND_LETTERS.has(upper[0]!) ? 'an' : 'a';
  // Brand names spelled in mixed case but said with a letter's name.
  if (/^nvidia/i.test(word)) return 'an';
  const lower = word.toLowerCase();
  if (SILENT_H.test(lower)) return 'an';
  if (lower.startsWith('eu') || lower.startsWith('one') || lower.startsWith('once')) return 'a';
  if (lower.startsWith('u')) return U_AS_YOU.test(lower) ? 'a' : 'an';
  return /^[aeio]/.test(lower) ? 'an' : 'a';
}

/** `phrase` preceded by its indefinite article ("an Intel(R) Core(TM) i7 CPU"). */
export function withArticle(phrase: string): string {
  return `${indefiniteArticle(phrase)} ${phrase}`;
}
