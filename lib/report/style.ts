/** The report's stylesheet (screen and print). Colours: CPU blue, GPU green, RAM orange. */
export const REPORT_CSS = `
:root { --cpu: #1f77b4; --gpu: #2ca02c; --ram: #e67e00; --ink: #1d232a; --muted: #5b6570; --line: #d8dde3; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--ink); background: #f6f7f9; }
header, main, footer { max-width: 1180px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 18px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 28px 0 10px; font-size: 20px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { margin: 0 0 8px; font-size: 17px; }
h4 { margin: 14px 0 6px; font-size: 14px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.meta, .note { color: var(--muted); font-size: 13px; }
section.project, #timeline, #hardware, #methodology, #overview { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin: 12px 0; }
#projects { margin: 0; } #projects > h2 { margin-bottom: 0; }
section > h2:first-child { margin-top: 0; } #projects > h2:first-child { margin-top: 28px; }
table { border-collapse: collapse; }
table.totals th { text-align: left; padding: 2px 14px 2px 0; color: var(--muted); font-weight: 600; vertical-align: top; }
table.totals td { padding: 2px 0; }
table.list { width: 100%; font-size: 14px; }
table.list th, table.list td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
.q { font-variant-numeric: tabular-nums; font-weight: 600; }
blockquote { margin: 6px 0; padding: 8px 12px; border-left: 4px solid var(--cpu); background: #f2f6fa; }
pre { margin: 6px 0; padding: 8px 12px; background: #f4f4f4; overflow-x: auto; font-size: 12px; white-space: pre-wrap; }
.copyable { position: relative; }
button.copy { float: right; margin-left: 8px; font: inherit; font-size: 12px; padding: 2px 10px; border: 1px solid var(--line); border-radius: 4px; background: #fff; cursor: pointer; }
button.copy:hover { background: #eef2f6; }
.copied { float: right; font-size: 12px; color: var(--gpu); }
.comparison { font-style: italic; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; margin: 10px 0 0; font-size: 13px; color: var(--muted); }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.sw { display: inline-block; width: 14px; height: 12px; border: 1px solid #888; }
.sw.cpu { background: var(--cpu); } .sw.gpu { background: var(--gpu); } .sw.ram { background: var(--ram); }
.sw.measured { background: #666; }
.sw.estimated { background: repeating-linear-gradient(45deg, #666 0 2px, #fff 2px 5px); border-style: dashed; }
.chart { margin: 8px 0; min-height: 40px; }
.picker { display: grid; grid-template-columns: auto 1fr; gap: 6px 10px; align-items: center; }
.picker select { grid-column: 1 / 3; width: 100%; font: 13px/1.3 ui-monospace, SFMono-Regular, Menlo, monospace; }
.picker .note { grid-column: 1 / 3; margin: 0; }
#run-filter { font: inherit; padding: 3px 6px; }
#run-details { margin: 10px 0 0; font-size: 14px; }
#run-details table td, #run-details table th { padding: 1px 12px 1px 0; text-align: left; }
.method { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; padding: 1px 5px; border-radius: 3px; white-space: nowrap; }
.method.measured { background: #e3f1e3; border: 1px solid #9cc79c; }
.method.estimated { background: repeating-linear-gradient(45deg, #fff4e0 0 4px, #fff 4px 8px); border: 1px dashed #d0a050; }
.method.none { background: #eee; border: 1px solid #ccc; color: var(--muted); }
dl.methods { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; font-size: 13px; }
dl.methods dd { margin: 0; color: var(--muted); }
footer { padding-bottom: 30px; font-size: 12px; color: var(--muted); }
pre.licence { font-size: 11px; }
.u-legend { font-size: 12px; }
@media print {
  body { background: #fff; font-size: 11pt; }
  header, main, footer { max-width: none; padding: 0; }
  .no-print, button.copy, .copied { display: none !important; }
  section.project, #timeline, #hardware, #methodology, #overview { border: none; padding: 0; margin: 0 0 14pt; break-inside: avoid; }
  section.project { break-inside: auto; }
  .chart { break-inside: avoid; }
  blockquote, pre { background: none; border-left-color: #999; }
  a { color: inherit; text-decoration: none; }
}
`;
