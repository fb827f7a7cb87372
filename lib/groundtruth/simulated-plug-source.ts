/**
 * Source of the simulated plug's thread (plain JavaScript, CommonJS; see simulated-plug.ts).
 *
 * Firmware behaviour simulated (facts in docs/ground-truth.md):
 * - Tasmota: `/cm?cmnd=…`; energy added once a second (ticks from boot) in 10⁻⁵ kWh steps, the
 *   remainder carried; `Total` kept as a 32-bit float and printed with `EnergyRes` decimals
 *   (default 3); `Time`/`TotalStartTime` local time without zone; `Power` integer W;
 *   `EnergyTotal 0` resets and sets `TotalStartTime`; with a password, 401
 *   `{"WARNING":"Need user=<username>&password=<password>"}` unless `user=`/`password=` (or
 *   Basic) match; a reboot loses the energy since the last save (`savePeriodS`).
 * - Shelly Gen2: `/rpc/Switch.GetStatus?id=0`, `apower` W, `aenergy.total` Wh (3 decimals),
 *   updated once a second; digest auth (SHA-256) with a password; the total survives reboots.
 * - Shelly Gen1: `/status` and `/meter/0`, `total` in whole watt-minutes, once a second;
 *   Basic auth with a password; a reboot zeroes the total and the uptime.
 * Thread: everything runs on the simulator's own worker thread; the owner talks to it by
 * messages `{id, op, …}` and gets `{id, value}` back.
 */
export const SIMULATED_PLUG_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const crypto = require('node:crypto');
const o = workerData;
const STEP = 1e-5;
let bootMs = Date.now();
let history = [{ atMs: bootMs, watts: o.watts }];
let ticked = 0; // whole seconds integrated since boot
let carryKwh = 0;
let steps = 0; // Tasmota: 10^-5 kWh steps since the last reset; others: exact kWh in 'exact'
let exactKwh = 0;
let baseKwh = o.initialTotalKwh;
let savedKwh = o.initialTotalKwh;
let lastSaveMs = bootMs;
let energyRes = o.energyRes;
let totalStartTime = localTime(bootMs);
let behaviour = { delayMs: 0, dead: false };
const log = [];
const held = new Set();
const nonces = new Set();

function localTime(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
}
function powerAt(ms) {
  let w = 0;
  for (const seg of history) { if (seg.atMs <= ms) w = seg.watts; else break; }
  return w;
}
function energyKwh(fromMs, toMs) {
  let joules = 0;
  for (let i = 0; i < history.length; i++) {
    const a = Math.max(history[i].atMs, fromMs);
    const b = Math.min(i + 1 < history.length ? history[i + 1].atMs : Infinity, toMs);
    if (b > a) joules += history[i].watts * (b - a) / 1000;
  }
  return joules / 3.6e6;
}
function advance() {
  const now = Date.now();
  const due = Math.floor((now - bootMs) / 1000);
  for (; ticked < due; ticked++) {
    const e = energyKwh(bootMs + ticked * 1000, bootMs + (ticked + 1) * 1000);
    exactKwh += e;
    carryKwh += e;
    const whole = Math.floor(carryKwh / STEP + 1e-9);
    steps += whole;
    carryKwh -= whole * STEP;
  }
  if (now - lastSaveMs >= o.savePeriodS * 1000) { savedKwh = totalKwh(); lastSaveMs = now; }
}
function totalKwh() {
  return o.firmware === 'tasmota' ? Math.fround(baseKwh + steps * STEP) : baseKwh + exactKwh;
}
function reboot() {
  advance();
  const now = Date.now();
  if (o.firmware === 'tasmota') { baseKwh = savedKwh; steps = 0; carryKwh = 0; }
  else if (o.firmware === 'shelly-gen1') { baseKwh = 0; exactKwh = 0; }
  bootMs = now; ticked = 0;
  if (o.firmware !== 'tasmota') { carryKwh = 0; }
  if (o.firmware === 'shelly-gen2') { baseKwh = totalKwh(); exactKwh = 0; }
}
function resetCounter() {
  advance();
  baseKwh = 0; steps = 0; exactKwh = 0; savedKwh = 0;
  totalStartTime = localTime(Date.now());
}
function send(res, status, body, headers) {
  res.writeHead(status, Object.assign({ 'content-type': 'application/json' }, headers || {}));
  res.end(body);
}
function basicOk(req) {
  const h = req.headers.authorization || '';
  if (!h.startsWith('Basic ')) return false;
  return Buffer.from(h.slice(6), 'base64').toString() === o.user + ':' + o.password;
}
function digestOk(req) {
  const h = req.headers.authorization || '';
  if (!h.startsWith('Digest ')) return false;
  const p = {};
  for (const m of h.slice(7).matchAll(/(\w+)=("([^"]*)"|[^,\s]*)/g)) p[m[1]] = m[3] !== undefined ? m[3] : m[2];
  if (!nonces.has(p.nonce) || p.username !== o.user) return false;
  const H = (s) => crypto.createHash('sha256').update(s).digest('hex');
  const ha1 = H(o.user + ':shelly-sim:' + o.password);
  const ha2 = H('GET:' + p.uri);
  return p.response === H(ha1 + ':' + p.nonce + ':' + p.nc + ':' + p.cnonce + ':' + p.qop + ':' + ha2);
}
function tasmota(url, req, res) {
  if (o.password !== null) {
    const q = url.searchParams;
    const ok = (q.get('user') === o.user && q.get('password') === o.password) || basicOk(req);
    if (!ok) return send(res, 401, '{"WARNING":"Need user=<username>&password=<password>"}');
  }
  const cmnd = (url.searchParams.get('cmnd') || '').trim();
  const [name, arg] = cmnd.split(/\s+/);
  const command = (name || '').toLowerCase();
  const now = Date.now();
  if (command === 'energyres') {
    if (arg !== undefined) energyRes = Math.max(0, Math.min(5, Number(arg)));
    return send(res, 200, '{"EnergyRes":' + energyRes + '}');
  }
  if (command === 'energytotal' || command === 'energytoday' || command === 'energyyesterday') {
    if (command === 'energytotal' && arg !== undefined && Number(arg) === 0) resetCounter();
    const t = totalKwh();
    return send(res, 200, '{"EnergyTotal":{"Total":' + t.toFixed(energyRes) + ',"Yesterday":0,"Today":' + t.toFixed(energyRes) + ',"StartTotalTime":"' + totalStartTime + '"}}');
  }
  if (command === 'status' && (arg === '8' || arg === '10')) {
    const t = totalKwh();
    const w = Math.round(powerAt(now));
    const e = '{"TotalStartTime":"' + totalStartTime + '","Total":' + t.toFixed(energyRes) + ',"Yesterday":' + (0).toFixed(energyRes) + ',"Today":' + t.toFixed(energyRes) +
      ',"Power":' + w + ',"ApparentPower":' + w + ',"ReactivePower":0,"Factor":' + (w > 0 ? '1.00' : '0.00') + ',"Voltage":230,"Current":' + (w / 230).toFixed(3) + '}';
    return send(res, 200, '{"StatusSNS":{"Time":"' + localTime(now) + '","ENERGY":' + e + '}}');
  }
  return send(res, 200, '{"Command":"Unknown"}');
}
function shellyGen2(url, req, res) {
  if (o.password !== null && !digestOk(req)) {
    const nonce = crypto.randomBytes(8).toString('hex');
    nonces.add(nonce);
    return send(res, 401, '', { 'www-authenticate': 'Digest qop="auth", realm="shelly-sim", nonce="' + nonce + '", algorithm=SHA-256' });
  }
  if (url.pathname !== '/rpc/Switch.GetStatus') return send(res, 404, '{"code":404,"message":"No handler for ' + url.pathname + '"}');
  const now = Date.now();
  const w = powerAt(now);
  const wh = Math.floor(totalKwh() * 1e6) / 1000;
  send(res, 200, JSON.stringify({ id: 0, source: 'init', output: true, apower: Math.round(w * 10) / 10, voltage: 230.0, current: Math.round(w / 230 * 1000) / 1000, pf: 1, aenergy: { total: wh, by_minute: [0, 0, 0], minute_ts: Math.floor(now / 60000) * 60 }, temperature: { tC: 40, tF: 104 } }));
}
function shellyGen1(url, req, res) {
  if (o.password !== null && !basicOk(req)) return send(res, 401, '401 Unauthorized', { 'www-authenticate': 'Basic realm="shelly-sim"', 'content-type': 'text/plain' });
  const now = Date.now();
  const meter = { power: Math.round(powerAt(now) * 100) / 100, overpower: 0, is_valid: true, timestamp: Math.floor((now - new Date(now).getTimezoneOffset() * 60000) / 1000), counters: [0, 0, 0], total: Math.floor(totalKwh() * 60000 + 1e-6) };
  if (url.pathname === '/meter/0') return send(res, 200, JSON.stringify(meter));
  if (url.pathname === '/status') return send(res, 200, JSON.stringify({ meters: [meter], uptime: Math.floor((now - bootMs) / 1000), unixtime: Math.floor(now / 1000) }));
  send(res, 404, 'Not Found', { 'content-type': 'text/plain' });
}
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://plug');
  log.push(url.pathname + url.search);
  if (behaviour.dead) { held.add(res); return; }
  const answer = () => {
    advance();
    if (o.firmware === 'tasmota') { if (url.pathname === '/cm') tasmota(url, req, res); else send(res, 404, ''); }
    else if (o.firmware === 'shelly-gen2') shellyGen2(url, req, res);
    else shellyGen1(url, req, res);
  };
  if (behaviour.delayMs > 0) setTimeout(answer, behaviour.delayMs); else answer();
});
server.keepAliveTimeout = 1000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ id: 0, value: server.address().port }));
parentPort.on('message', (m) => {
  let value = null;
  if (m.op === 'power') { advance(); const at = Date.now(); history.push({ atMs: at, watts: m.watts }); value = at; }
  else if (m.op === 'truth') value = energyKwh(m.fromMs, m.toMs);
  else if (m.op === 'reboot') reboot();
  else if (m.op === 'reset') resetCounter();
  else if (m.op === 'behaviour') behaviour = Object.assign({ delayMs: 0, dead: false }, m.behaviour);
  else if (m.op === 'log') value = log.slice();
  else if (m.op === 'state') { advance(); value = { totalKwh: totalKwh(), energyRes }; }
  else if (m.op === 'close') {
    for (const r of held) r.destroy();
    server.closeAllConnections && server.closeAllConnections();
    server.close(() => parentPort.postMessage({ id: m.id, value: null }));
    return;
  }
  parentPort.postMessage({ id: m.id, value });
});
`;
