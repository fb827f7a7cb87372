/**
 * The impact statement for papers: over stored runs ({@link paperStatement}), over records you
 * already have ({@link statementFromRecords}), or for energy obtained elsewhere
 * ({@link customPaperStatement}); and the BibTeX entries it cites ({@link bibtex}).
 */
export { paperStatement, loadStatement, printPaperStatement, type PaperStatementOptions } from './paper.js';
export {
  statementFromRecords,
  statementFromSummary,
  customStatement,
  customPaperStatement,
  printCustomPaperStatement,
  formatStatement,
  printedEnergy,
  printedEmissions,
  escapeLatex,
  type StatementFormat,
  type StatementOptions,
  type StatementRecord,
  type PaperStatement,
  type PrintedQuantity,
  type HardwareConfiguration,
  type CustomStatementInput,
} from './statement.js';
export { bibtex, CITATION_KEYS, STATEMENT_CITATION_KEYS, type CitationKey, type BibtexSelection } from './bibtex.js';
export { COMPARISON_ITEMS, COMPARISON_CITATION_KEY, comparisonFor, nearestItem, formatMass, type ComparisonItem, type StatementComparison } from './comparison.js';
export { indefiniteArticle, withArticle } from './article.js';
export { describeHardware, cpuName, parseGpus, gpuPhrase, customHardwarePhrase, type GpuGroup } from './hardware.js';
export { methodPhrase, MethodologyCollector, type MethodologyRecord, type MethodologyState, type RecordSource } from './methodology.js';
export {
  StatementSummary,
  summarise,
  STATEMENT_SUMMARY_VERSION,
  type StatementSummaryJSON,
  type SummaryOptions,
  type SummaryConfiguration,
  type FallbackIntensity,
  type TotalJSON,
} from './summary.js';
export { ExactSum, type ExactSumJSON } from './exact-sum.js';
export { StatementAggregates, STATEMENT_AGGREGATES_VERSION, type AggregateRecord, type GroupKey, type GroupFilter, type StatementAggregatesJSON } from './groups.js';
