/**
 * Renders {@link ReportData} as ONE self-contained HTML file: the numbers, statements and
 * tables are static HTML (they read and print without JavaScript); the charts are drawn by
 * uPlot, inlined from the `uplot` package with its licence. Nothing is fetched at view time.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { formatDuration, formatEnergy } from '../format.js';
import { TRACKER_VERSION } from '../version.js';
import { CLIENT_SCRIPT } from './client.js';
import { REPORT_CSS } from './style.js';
import type { ReportConfiguration, ReportData, ReportMethodology, ReportProject, ReportTotals } from './data.js';

const JOULES_PER_KWH = 3.6e6;

interface ChartLibrary {
  script: string;
  css: string;
  licence: string;
  version: string;
}

let library: ChartLibrary | null = null;

/** uPlot's minified build, stylesheet, licence and version, read once from the installed package. */
export function chartLibrary(): ChartLibrary {
  if (library !== null) return library;
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    root = dirname(require.resolve('uplot/package.json'));
  } catch (error) {
    throw new Error(`the report needs the "uplot" package (a dependency of lamarr-energy-tracker), which cannot be found: ${(error as Error).message}`, { cause: error });
  }
  const read = (path: string) => readFileSync(join(root, path), 'utf8');
  library = {
    script: read('dist/uPlot.iife.min.js'),
    css: read('dist/uPlot.min.css'),
    licence: read('LICENSE'),
    version: (JSON.parse(read('package.json')) as { version: string }).version,
  };
  return library;
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside a `<script>` element (no `</script>`, no `<!--`). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function energy(kwh: number): string {
  return formatEnergy(kwh * JOULES_PER_KWH);
}

function mass(kg: number): string {
  const grams = kg * 1000;
  if (Math.abs(grams) < 1000) return `${grams === 0 ? '0' : grams.toPrecision(4)} g`;
  return `${(grams / 1000).toPrecision(4)} kg`;
}

/** A number cell that carries its exact value (for readers and tests) and shows it rounded. */
function quantity(text: string, name: string, value: number): string {
  return `<span class="q" data-${name}="${value}">${escapeHtml(text)}</span>`;
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '–';
}

function totalsTable(totals: ReportTotals, scope: string): string {
  const wall =
    totals.wallRuns > 0
      ? `<tr><th>Wall plug (ground truth)</th><td>${quantity(energy(totals.wallKwh), 'wall-kwh', totals.wallKwh)} over ${totals.wallRuns} run(s), where the tracker counted ${energy(totals.wallTrackedKwh)} (${percent(totals.wallTrackedKwh, totals.wallKwh)})</td></tr>`
      : '';
  return `<table class="totals" data-scope="${escapeHtml(scope)}">
<tr><th>Runs</th><td>${quantity(String(totals.runs), 'runs', totals.runs)}</td></tr>
<tr><th>Energy</th><td>${quantity(energy(totals.energyKwh), 'energy-kwh', totals.energyKwh)} (CPU ${energy(totals.cpuKwh)}, GPU ${energy(totals.gpuKwh)}, RAM ${energy(totals.ramKwh)}); ${percent(totals.measuredKwh, totals.energyKwh)} measured</td></tr>
<tr><th>Emissions</th><td>${quantity(mass(totals.emissionsKg), 'emissions-kg', totals.emissionsKg)} CO<sub>2</sub>eq</td></tr>
${wall}</table>`;
}

function copyBlock(id: string, label: string, text: string, element: 'blockquote' | 'pre'): string {
  return `<div class="copyable"><button type="button" class="copy" data-copy="${id}">Copy ${escapeHtml(label)}</button><span class="copied" aria-live="polite"></span>
<${element} id="${id}">${escapeHtml(text)}</${element}></div>`;
}

function projectSection(project: ReportProject, index: number): string {
  const statement =
    project.statementError !== null
      ? `<p class="note">No paper statement: ${escapeHtml(project.statementError)}</p>`
      : `${project.comparison !== null ? `<p class="comparison">${escapeHtml(project.comparison.replace(/~\\cite\{[^}]*\}/g, ''))}</p>` : ''}
<h4>Paper statement</h4>
${copyBlock(`statement-${index}`, 'statement', project.statement, 'blockquote')}
<details><summary>LaTeX and BibTeX</summary>
${copyBlock(`latex-${index}`, 'LaTeX', project.statementLatex, 'pre')}
${copyBlock(`bibtex-${index}`, 'BibTeX', project.bibtex, 'pre')}
</details>`;
  return `<section class="project" data-project="${index}">
<h3>Project ${escapeHtml(project.name)}</h3>
${totalsTable(project.totals, project.name)}
${statement}
<h4>Energy per run, by component</h4>
<div class="chart runs-chart" id="runs-chart-${index}" data-project="${index}" role="img" aria-label="Stacked bars: energy per run of project ${escapeHtml(project.name)}"></div>
</section>`;
}

function configurationRows(configurations: readonly ReportConfiguration[]): string {
  return configurations
    .map((c) => {
      const gpu = c.gpu === '' || c.gpuCount === 0 ? '–' : /^\d+ x /.test(c.gpu) ? c.gpu : `${c.gpuCount ?? '?'} × ${c.gpu}`;
      return `<tr><td>${escapeHtml(c.hostname || '–')}</td><td>${escapeHtml(c.cpu || '–')}${c.cpuCount !== null ? ` (${c.cpuCount} logical CPUs)` : ''}</td><td>${escapeHtml(gpu)}</td><td>${c.ramGiB ?? '–'}</td><td>${c.runs}</td><td>${energy(c.energyKwh)}</td></tr>`;
    })
    .join('\n');
}

function methodLabel(data: ReportData, label: string): string {
  const method = data.methods.find((entry) => entry.label === label);
  const kind = method?.kind ?? 'estimated';
  return `<span class="method ${kind}" title="${escapeHtml(method?.description ?? '')}">${escapeHtml(label || '(not labelled)')}</span>`;
}

function methodologyRows(data: ReportData, rows: readonly ReportMethodology[]): string {
  return rows.map((m) => `<tr><td>${methodLabel(data, m.cpu)}</td><td>${methodLabel(data, m.gpu)}</td><td>${methodLabel(data, m.ram)}</td><td>${m.runs}</td><td>${energy(m.energyKwh)}</td></tr>`).join('\n');
}

const LEGEND = `<div class="legend" aria-label="How to read the charts">
<span><i class="sw cpu"></i>CPU</span><span><i class="sw gpu"></i>GPU</span><span><i class="sw ram"></i>RAM</span>
<span><i class="sw measured"></i>solid: measured by a counter</span><span><i class="sw estimated"></i>hatched, dashed: estimated from a model (or not labelled)</span>
<span>● wall plug (ground truth)</span></div>`;

/** The report page for `data`. */
export function renderReportHtml(data: ReportData): string {
  const lib = chartLibrary();
  const title = escapeHtml(data.title);
  const longest = data.runs.durationS.reduce((max, value) => Math.max(max, value), 0);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="lamarr-energy-tracker ${escapeHtml(TRACKER_VERSION)}">
<link rel="icon" href="data:,">
<title>${title}</title>
<style>${lib.css}</style>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>${title}</h1>
<p class="meta">Generated ${escapeHtml(data.generated)} by lamarr-energy-tracker ${escapeHtml(TRACKER_VERSION)} · ${escapeHtml(data.filters)} · longest run ${escapeHtml(formatDuration(longest))}</p>
</header>
<main>
<section id="overview"><h2>All selected runs</h2>
${totalsTable(data.totals, 'all')}
${LEGEND}
${data.notes.map((note) => `<p class="note">${escapeHtml(note)}</p>`).join('\n')}
</section>
<section id="projects"><h2>Projects</h2>
${data.projects.map(projectSection).join('\n')}
</section>
<section id="timeline"><h2>Power over time of one run</h2>
<div class="picker no-print">
<label for="run-filter">Pick a run</label> <input id="run-filter" type="search" placeholder="filter by project, date, host, run id" autocomplete="off">
<select id="run-list" size="10" aria-label="Runs"></select>
<p id="run-list-note" class="note"></p>
</div>
<div id="run-details"></div>
<div class="chart" id="timeline-chart" role="img" aria-label="Power of the selected run over time"></div>
</section>
<section id="hardware"><h2>Hardware configurations</h2>
<table class="list"><thead><tr><th>Host</th><th>CPU</th><th>GPU</th><th>RAM (GiB)</th><th>Runs</th><th>Energy</th></tr></thead>
<tbody>${configurationRows(data.configurations)}</tbody></table>
</section>
<section id="methodology"><h2>Methodology</h2>
<p>How each component's energy was obtained (hover a label for its meaning). Measured labels name the counter; estimated ones the model.</p>
<table class="list"><thead><tr><th>CPU</th><th>GPU</th><th>RAM</th><th>Runs</th><th>Energy</th></tr></thead>
<tbody>${methodologyRows(data, data.methodology)}</tbody></table>
<dl class="methods">${data.methods.map((m) => `<dt>${methodLabel(data, m.label)}</dt><dd>${escapeHtml(m.description)}</dd>`).join('')}</dl>
</section>
</main>
<footer>
<details><summary>Third-party licences</summary>
<p>Charts drawn with uPlot ${escapeHtml(lib.version)} (https://github.com/leeoniya/uPlot), included in this file under the MIT licence:</p>
<pre class="licence">${escapeHtml(lib.licence)}</pre>
</details>
</footer>
<script type="application/json" id="let-data">${scriptJson(data)}</script>
<script>${lib.script}</script>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}
