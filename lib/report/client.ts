/**
 * The report page's script (plain ES2017, run by the browser): draws the per-project stacked
 * bars and the picked run's timeline with uPlot from the data Node aggregated, fills the run
 * list, and wires the copy buttons. It computes no totals: every number in the text is static.
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('let-data').textContent);
  var runs = data.runs;
  var COLOURS = { cpu: '#1f77b4', gpu: '#2ca02c', ram: '#e67e00' };
  var NAMES = { cpu: 'CPU', gpu: 'GPU', ram: 'RAM' };
  var charts = [];

  function hatch(colour) {
    var c = document.createElement('canvas');
    c.width = 8; c.height = 8;
    var g = c.getContext('2d');
    g.fillStyle = 'rgba(255,255,255,0.85)'; g.fillRect(0, 0, 8, 8);
    g.strokeStyle = colour; g.lineWidth = 2.2;
    g.beginPath(); g.moveTo(-2, 10); g.lineTo(10, -2); g.moveTo(-2, 2); g.lineTo(2, -2); g.moveTo(6, 10); g.lineTo(10, 6); g.stroke();
    return g.createPattern(c, 'repeat');
  }
  function alpha(colour, a) {
    var n = parseInt(colour.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + a + ')';
  }
  function energyUnit(maxJ) {
    if (maxJ >= 3.6e6) return { name: 'kWh', div: 3.6e6 };
    if (maxJ >= 3600) return { name: 'Wh', div: 3600 };
    return { name: 'J', div: 1 };
  }
  function fmt(v) { return v == null ? '–' : (v === 0 ? '0' : Number(v.toPrecision(4)).toString()); }
  function fmtEnergy(j) { var u = energyUnit(Math.abs(j)); return fmt(j / u.div) + ' ' + u.name; }
  function width(el) { return Math.max(320, Math.min(1120, (el.clientWidth || 900) - 4)); }
  function kindOf(m) { return data.methods[m].kind; }

  function runsChart(el, project) {
    var a = project.firstRun, b = project.endRun, n = b - a;
    var comps = ['cpu', 'gpu', 'ram'];
    var x = new Array(n), cumulative = new Array(n), maxJ = 0, k, i;
    for (i = 0; i < n; i++) { x[i] = i + 1; cumulative[i] = 0; maxJ = Math.max(maxJ, runs.totalJ[a + i], runs.wallJ[a + i] || 0); }
    var unit = energyUnit(maxJ);
    // Stack tops per component and kind: CPU at the bottom, then GPU, then RAM. Each bar is
    // drawn from 0 to its top, the tallest first, so what shows of it is its own energy.
    var tops = {};
    comps.forEach(function (c) {
      var measured = new Array(n), estimated = new Array(n);
      for (i = 0; i < n; i++) {
        var r = a + i, j = runs[c + 'J'][r], kind = kindOf(runs[c + 'Method'][r]);
        cumulative[i] += j;
        var top = j > 0 ? cumulative[i] / unit.div : null;
        measured[i] = kind === 'measured' ? top : null;
        estimated[i] = kind === 'measured' ? null : top;
      }
      tops[c] = { measured: measured, estimated: estimated };
    });
    var wall = new Array(n), anyWall = false;
    for (i = 0; i < n; i++) { var w = runs.wallJ[a + i]; wall[i] = w == null ? null : w / unit.div; if (w != null) anyWall = true; }
    var bars = uPlot.paths.bars({ size: [0.8, 48, 1], align: 0 });
    var series = [{ label: 'run', value: function (u, v) { return v == null ? '' : '#' + v + ' ' + runs.timestamp[a + v - 1]; } }];
    var columns = [x];
    ['ram', 'gpu', 'cpu'].forEach(function (c) {
      ['measured', 'estimated'].forEach(function (kind) {
        var values = tops[c][kind];
        if (!values.some(function (v) { return v != null; })) return;
        var est = kind === 'estimated';
        series.push({
          label: NAMES[c] + (est ? ' estimated' : ' measured'),
          stroke: COLOURS[c], width: est ? 1.5 : 1, dash: est ? [4, 3] : undefined,
          fill: est ? hatch(COLOURS[c]) : alpha(COLOURS[c], 0.85),
          paths: bars, points: { show: false },
          value: function (u, v, si, idx) { return idx == null ? '–' : fmt(runs[c + 'J'][a + idx] / unit.div); },
        });
        columns.push(values);
      });
    });
    if (anyWall) {
      series.push({ label: 'wall plug (ground truth)', stroke: '#111', width: 0, paths: function () { return null; },
        points: { show: true, size: 9, fill: '#111', stroke: '#fff', width: 1 }, value: function (u, v) { return fmt(v); } });
      columns.push(wall);
    }
    var u = new uPlot({
      width: width(el), height: 280,
      scales: { x: { time: false, range: function (self, min, max) { return [min - 0.5, max + 0.5]; } }, y: { range: function (self, min, max) { return [0, (max || 1) * 1.05]; } } },
      axes: [{ label: 'run (oldest first; click a bar for its timeline)', values: function (self, splits) { return splits.map(function (s) { return Number.isInteger(s) ? String(s) : ''; }); } },
        { label: 'energy (' + unit.name + ')', size: 60 }],
      series: series,
      cursor: { points: { show: false }, drag: { x: false, y: false } },
    }, columns, el);
    u.over.addEventListener('click', function () { if (u.cursor.idx != null) selectRun(a + u.cursor.idx, true); });
    charts.push({ chart: u, el: el });
  }

  var timelineChart = null;
  function drawTimeline(r) {
    var el = document.getElementById('timeline-chart');
    if (timelineChart !== null) { timelineChart.chart.destroy(); charts.splice(charts.indexOf(timelineChart), 1); timelineChart = null; }
    el.textContent = '';
    var tl = data.timelines[r];
    if (!tl) {
      var p = document.createElement('p'); p.className = 'note';
      p.textContent = 'No timeline is stored for this run (timelines were off, the run was not saved by this tracker, or its file was removed).';
      el.appendChild(p);
      return;
    }
    var span = tl.t[tl.t.length - 1], tu = span >= 7200 ? { name: 'h', div: 3600 } : span >= 180 ? { name: 'min', div: 60 } : { name: 's', div: 1 };
    var columns = [tl.t.map(function (v) { return v / tu.div; })];
    var series = [{ label: 'time', value: function (u, v) { return v == null ? '' : fmt(v) + ' ' + tu.name; } }];
    var stepped = uPlot.paths.stepped({ align: 1 });
    var total = new Array(tl.t.length).fill(0);
    tl.series.forEach(function (s) {
      var y = s.watts.slice(); y.push(s.watts.length ? s.watts[s.watts.length - 1] : 0);
      for (var i = 0; i < y.length; i++) total[i] += y[i];
      columns.push(y);
      series.push({ label: NAMES[s.component] + (s.estimated ? ' (estimated: ' : ' (measured: ') + s.method.replace(/^[a-z]+:/, '') + ')',
        stroke: COLOURS[s.component], width: 1.5, dash: s.estimated ? [6, 4] : undefined,
        fill: alpha(COLOURS[s.component], s.estimated ? 0.05 : 0.14), paths: stepped, points: { show: false },
        value: function (u, v) { return v == null ? '–' : fmt(v) + ' W'; } });
    });
    if (tl.series.length > 1) {
      columns.push(total);
      series.push({ label: 'total', stroke: '#333', width: 1, paths: stepped, points: { show: false }, value: function (u, v) { return v == null ? '–' : fmt(v) + ' W'; } });
    }
    var u = new uPlot({
      width: width(el), height: 300,
      scales: { x: { time: false }, y: { range: function (self, min, max) { return [0, (max || 1) * 1.08]; } } },
      axes: [{ label: 'time since the start of the run (' + tu.name + ')' }, { label: 'power (W)', size: 60 }],
      series: series, cursor: { drag: { x: true, y: false } },
    }, columns, el);
    timelineChart = { chart: u, el: el };
    charts.push(timelineChart);
  }

  function cell(text) { var td = document.createElement('td'); td.textContent = text; return td; }
  function methodCell(m) {
    var td = document.createElement('td'), span = document.createElement('span');
    span.className = 'method ' + data.methods[m].kind; span.textContent = data.methods[m].label || '(not labelled)';
    span.title = data.methods[m].description; td.appendChild(span); return td;
  }
  function showDetails(r) {
    var box = document.getElementById('run-details');
    box.textContent = '';
    var h = document.createElement('h3');
    h.textContent = 'Run ' + runs.id[r] + ' · ' + data.projects[runs.project[r]].name + ' · ' + runs.timestamp[r];
    h.setAttribute('data-run-id', runs.id[r]);
    box.appendChild(h);
    var t = document.createElement('table'), c = data.configurations[runs.configuration[r]];
    [['CPU', runs.cpuJ[r], runs.cpuMethod[r]], ['GPU', runs.gpuJ[r], runs.gpuMethod[r]], ['RAM', runs.ramJ[r], runs.ramMethod[r]]].forEach(function (row) {
      var tr = document.createElement('tr'); tr.appendChild(cell(row[0])); tr.appendChild(cell(fmtEnergy(row[1]))); tr.appendChild(methodCell(row[2])); t.appendChild(tr);
    });
    var rows = [['Total', fmtEnergy(runs.totalJ[r]) + ' in ' + fmt(runs.durationS[r]) + ' s, ' + fmt(runs.emissionsG[r]) + ' g CO2eq' + (runs.status[r] ? ' (' + runs.status[r] + ')' : '')]];
    if (runs.wallJ[r] != null) rows.push(['Wall plug', fmtEnergy(runs.wallJ[r]) + (runs.wallUncertaintyJ[r] != null ? ' ± ' + fmtEnergy(runs.wallUncertaintyJ[r]) : '') + ' (' + (runs.wallMethod[r] || 'ground truth') + ')']);
    rows.push(['Hardware', (c.hostname || '?') + ': ' + (c.cpu || 'unknown CPU') + (c.gpu && c.gpuCount !== 0 ? '; ' + (/^\d+ x /.test(c.gpu) ? c.gpu : c.gpuCount + ' × ' + c.gpu) : '') + (c.ramGiB != null ? '; ' + c.ramGiB + ' GiB RAM' : '')]);
    rows.forEach(function (row) { var tr = document.createElement('tr'); tr.appendChild(cell(row[0])); var td = cell(row[1]); td.colSpan = 2; tr.appendChild(td); t.appendChild(tr); });
    box.appendChild(t);
  }

  var list = document.getElementById('run-list'), filter = document.getElementById('run-filter'), note = document.getElementById('run-list-note');
  var LIMIT = 1000, order = [];
  for (var r = runs.id.length - 1; r >= 0; r--) order.push(r);
  order.sort(function (p, q) { return runs.timestamp[q] < runs.timestamp[p] ? -1 : runs.timestamp[q] > runs.timestamp[p] ? 1 : 0; });
  function label(r) {
    var c = data.configurations[runs.configuration[r]];
    return runs.timestamp[r] + '  ' + data.projects[runs.project[r]].name + '  ' + fmtEnergy(runs.totalJ[r]) + '  ' + (c.hostname || '') + '  ' + runs.id[r] + (data.timelines[r] ? '' : '  (no timeline)');
  }
  function fillList() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0, matched = 0;
    var fragment = document.createDocumentFragment();
    order.forEach(function (r) {
      var text = label(r);
      var lower = text.toLowerCase();
      if (!words.every(function (w) { return lower.indexOf(w) >= 0; })) return;
      matched++;
      if (shown >= LIMIT) return;
      var o = document.createElement('option'); o.value = String(r); o.textContent = text; fragment.appendChild(o); shown++;
    });
    list.textContent = ''; list.appendChild(fragment);
    note.textContent = matched > shown ? 'Showing ' + shown + ' of ' + matched + ' matching runs, most recent first; type to narrow.' : matched + ' run(s), most recent first.';
  }
  function selectRun(r, scroll) {
    if (list.value !== String(r)) { list.value = String(r); if (list.value !== String(r)) { filter.value = runs.id[r]; fillList(); list.value = String(r); } }
    showDetails(r); drawTimeline(r);
    if (scroll) document.getElementById('timeline').scrollIntoView({ behavior: 'smooth' });
  }
  filter.addEventListener('input', fillList);
  list.addEventListener('change', function () { if (list.value !== '') selectRun(Number(list.value), false); });

  document.querySelectorAll('button.copy').forEach(function (button) {
    button.addEventListener('click', function () {
      var target = document.getElementById(button.getAttribute('data-copy')), status = button.nextElementSibling;
      var text = target.textContent;
      function done(ok) { status.textContent = ok ? 'copied' : 'select the text and copy it'; setTimeout(function () { status.textContent = ''; }, 2500); }
      function fallback() {
        var range = document.createRange(); range.selectNodeContents(target);
        var selection = window.getSelection(); selection.removeAllRanges(); selection.addRange(range);
        var ok = false; try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
        done(ok);
      }
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
      else fallback();
    });
  });

  data.projects.forEach(function (project, index) { runsChart(document.getElementById('runs-chart-' + index), project); });
  fillList();
  var first = order.filter(function (r) { return data.timelines[r]; })[0];
  if (first === undefined) first = order[0];
  if (first !== undefined) selectRun(first, false);

  function resize(printing) {
    charts.forEach(function (c) { c.chart.setSize({ width: printing ? 660 : width(c.el), height: c.chart.height }); });
  }
  var pending = null;
  window.addEventListener('resize', function () { clearTimeout(pending); pending = setTimeout(function () { resize(false); }, 100); });
  window.addEventListener('beforeprint', function () { resize(true); });
  window.addEventListener('afterprint', function () { resize(false); });
  document.documentElement.setAttribute('data-ready', 'true');
})();
`;
