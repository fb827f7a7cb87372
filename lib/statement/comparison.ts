/**
 * The optional comparison sentence: the everyday item from Mike Berners-Lee's "How Bad Are
 * Bananas?" whose footprint is nearest the statement's emissions on a log scale.
 */

/** An everyday item and its footprint in grams of CO2-equivalents. */
export interface ComparisonItem {
  /** Noun phrase used after "the emissions of". */
  item: string;
  /** Footprint in g CO2e. */
  grams: number;
}

/** The reference items, lightest first (Berners-Lee, 2011). */
export const COMPARISON_ITEMS: readonly ComparisonItem[] = Object.freeze([
  { item: 'sending a text message', grams: 0.014 },
  { item: 'a web search', grams: 0.5 },
  { item: 'sending an email', grams: 4 },
  { item: 'a locally grown apple', grams: 10 },
  { item: 'boiling a quart of water', grams: 70 },
  { item: 'an imported banana', grams: 80 },
  { item: 'an hour of TV', grams: 100 },
  { item: 'a pint of beer', grams: 500 },
  { item: 'a paperback book', grams: 1000 },
  { item: 'a pair of jeans', grams: 6000 },
  { item: 'a train trip from New York City to Niagara Falls and back', grams: 120_000 },
  { item: 'a return flight from Los Angeles to Barcelona', grams: 3_400_000 },
  { item: 'a new mid-size car', grams: 17_000_000 },
]);

/** The citation key of the comparison source. */
export const COMPARISON_CITATION_KEY = 'berners_lee_bananas';

/** The chosen comparison, with the numbers behind its sentence. */
export interface StatementComparison {
  item: string;
  /** The item's footprint, g CO2e. */
  itemGrams: number;
  /** The statement's emissions divided by the item's footprint. */
  ratio: number;
  /** The ratio as printed: "2.6 times", "51%", or "about the same as". */
  ratioText: string;
  /** The sentences, with the citation (`~\cite{berners_lee_bananas}`). */
  sentence: string;
}

/**
 * The item nearest `grams` on a log scale; on an exact tie the lighter item wins.
 * Returns null for zero, negative or non-finite emissions.
 */
export function nearestItem(grams: number, items: readonly ComparisonItem[] = COMPARISON_ITEMS): ComparisonItem | null {
  if (!(grams > 0) || !Number.isFinite(grams) || items.length === 0) return null;
  const target = Math.log(grams);
  let best = items[0]!;
  let bestDistance = Math.abs(target - Math.log(best.grams));
  for (const candidate of items.slice(1)) {
    const distance = Math.abs(target - Math.log(candidate.grams));
    if (distance < bestDistance - 1e-12) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** A mass of CO2e in a readable unit: "0.014 g", "70 g", "1 kg", "120 kg", "3.4 t". */
export function formatMass(grams: number): string {
  const trim = (value: number): string => String(Number(value.toPrecision(3)));
  if (grams >= 1e6) return `${trim(grams / 1e6)} t`;
  if (grams >= 1000) return `${trim(grams / 1000)} kg`;
  return `${trim(grams)} g`;
}

function formatRatio(ratio: number): string {
  if (ratio < 10) return ratio.toFixed(1);
  return Math.round(ratio).toLocaleString('en-US');
}

function formatPercent(ratio: number): string {
  const percent = ratio * 100;
  if (percent >= 10) return String(Math.round(percent));
  if (percent >= 1) return percent.toFixed(1);
  return String(Number(percent.toPrecision(2)));
}

/**
 * The comparison for `emissionsGrams` (the emissions as printed in the statement, in grams),
 * or null when there is nothing to compare. `percentSign` lets LaTeX output escape `%`.
 */
export function comparisonFor(emissionsGrams: number, percentSign = '%'): StatementComparison | null {
  const item = nearestItem(emissionsGrams);
  if (item === null) return null;
  const ratio = emissionsGrams / item.grams;
  let ratioText: string;
  let phrase: string;
  const subject = `${item.item} (${formatMass(item.grams)} CO2e)`;
  if (ratio >= 0.95 && ratio < 1.05) {
    ratioText = 'about the same as';
    phrase = `about the emissions of ${subject}`;
  } else if (ratio >= 1) {
    ratioText = `${formatRatio(ratio)} times`;
    phrase = `about ${ratioText} the emissions of ${subject}`;
  } else {
    ratioText = `${formatPercent(ratio)}${percentSign}`;
    phrase = `about ${ratioText} of the emissions of ${subject}`;
  }
  const sentence =
    `For comparison, this is equivalent to ${phrase}. Comparisons are based on ` +
    `'How Bad Are Bananas? The Carbon Footprint of Everything' by Mike Berners-Lee, 2011~\\cite{${COMPARISON_CITATION_KEY}}.`;
  return { item: item.item, itemGrams: item.grams, ratio, ratioText, sentence };
}
