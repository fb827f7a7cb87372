/**
 * deleteResults without backups reads the store a part at a time (deleteStreamed); with
 * backups, every file whole (deleteWhole, the reference). In random stores both must return the
 * same count and leave the same files, byte for byte; a file changed between the two readings
 * by a program that does not take the lock is refused with nothing deleted.
 */
import { expect } from 'chai';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deleteStreamed, deleteWhole } from '../../lib/store/delete.js';
import { checkFilters } from '../../lib/store/filters.js';
import { CODECARBON_COLUMNS, deleteResults, formatHeader, formatRecordRow, loadResults } from '../../lib/store/index.js';
import type { ResultFilters } from '../../lib/store/index.js';
import { StoreError } from '../../lib/store/csv.js';
import { dropSidecarEntries, sidecarLine } from '../../lib/store/sidecar.js';
import { makeRecord, tempDir } from './helpers.js';
import { mulberry32 } from '../helpers/random.js';

const PROJECTS = ['alpha', 'beta', 'gamma, with a comma', 'δelta', 'multi\nline'];
const USERS = ['ann', 'bob'];
const HOSTS = ['h1', 'h2'];

/** A random store's CSV and sidecar text, as our appender, CodeCarbon and a hand would leave them. */
function randomStore(rand: () => number): { csv: string; sidecar: string } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const eol = rand() < 0.2 ? '\r\n' : '\n';
  const rows: string[] = [];
  const lines: string[] = [];
  const ids: string[] = [];
  const count = Math.floor(rand() * 40);
  for (let n = 0; n < count; n++) {
    const reuse = ids.length > 0 && rand() < 0.15;
    const runId = reuse ? pick(ids) : `run-${n}-${Math.floor(rand() * 1e6)}`;
    if (!reuse) ids.push(runId);
    const project = pick(PROJECTS);
    const record = makeRecord({
      run_id: runId,
      project_name: project,
      user: pick(USERS),
      hostname: pick(HOSTS),
      timestamp: `2026-01-0${1 + Math.floor(rand() * 5)}T10:00:00`,
      duration: n,
    });
    const row = formatRecordRow(record, CODECARBON_COLUMNS, eol);
    const kind = rand();
    if (kind < 0.55) {
      lines.push(sidecarLine(record)); // ours: its sidecar line, then its row
      rows.push(row);
    } else if (kind < 0.75) {
      rows.push(formatRecordRow({ ...record, experiment_id: '' }, CODECARBON_COLUMNS, eol)); // CodeCarbon's: no line
    } else if (kind < 0.82) {
      lines.push(sidecarLine(record)); // an append that failed after its line
    } else if (kind < 0.88) {
      lines.push(sidecarLine(record)); // a row stored twice
      rows.push(row, row);
    } else if (kind < 0.93) {
      // Unusable sidecar lines, some naming a stored run.
      lines.push(pick(['not json\n', `{"run_id":"${runId}","user":5}\n`, '\n', `{"run_id":"${runId.replace('-', '\\u002d')}"}\n`, `{"run_id": "${runId}"}\n`]));
      rows.push(row);
    } else {
      rows.push(eol); // a blank line
      rows.push(row);
    }
  }
  let csv = formatHeader(CODECARBON_COLUMNS, eol) + rows.join('');
  if (rand() < 0.15) csv = `\ufeff${csv}`;
  if (rand() < 0.2) csv += 'torn,row'; // a writer killed mid-row
  let sidecar = lines.join('');
  if (rand() < 0.2) sidecar += '{"run_id":"torn-';
  return { csv, sidecar };
}

function randomFilters(rand: () => number): ResultFilters {
  const f: ResultFilters = {};
  if (rand() < 0.5) f.projectName = PROJECTS[Math.floor(rand() * PROJECTS.length)] as string;
  if (rand() < 0.3) f.user = USERS[Math.floor(rand() * USERS.length)] as string;
  if (rand() < 0.3) f.hostname = HOSTS[Math.floor(rand() * HOSTS.length)] as string;
  if (rand() < 0.2) f.since = new Date(2026, 0, 3);
  if (rand() < 0.2) f.until = new Date(2026, 0, 4);
  return f;
}

/** The directory's files: name (a torn fragment's random suffix left out) to content. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const key = name.replace(/\.torn-.*$/, '.torn');
    out[key in out ? `${key}+` : key] = readFileSync(join(dir, name), 'latin1');
  }
  return out;
}

const noLock = { refresh: (): void => undefined };

/**
 * The sidecar without the dropped entries, as dropSidecarEntries computed it when it read the
 * file whole and parsed every line (the reference): the new text, or null when nothing drops.
 */
function dropReference(text: Buffer, drop: ReadonlyMap<string, ReadonlySet<number> | 'all'>): { text: Buffer; dropped: number } | null {
  const kept: Buffer[] = [];
  const seen = new Map<string, number>();
  let dropped = 0;
  for (let pos = 0; pos < text.length; ) {
    const nl = text.indexOf(0x0a, pos);
    if (nl < 0) break; // a torn last line goes with a rewrite
    const line = text.subarray(pos, nl + 1);
    pos = nl + 1;
    let id: unknown;
    try {
      id = (JSON.parse(line.toString('utf8')) as { run_id?: unknown }).run_id;
    } catch {
      id = undefined;
    }
    if (typeof id === 'string') {
      const k = seen.get(id) ?? 0;
      seen.set(id, k + 1);
      const which = drop.get(id);
      if (which === 'all' || which?.has(k)) {
        dropped++;
        continue;
      }
    }
    kept.push(line);
  }
  return dropped > 0 ? { text: Buffer.concat(kept), dropped } : null;
}

describe('store: deleteResults a part at a time', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('leaves the same files and count as reading every file whole, in random stores (500 cases)', () => {
    let deleted = 0;
    let kept = 0;
    for (let seed = 1; seed <= 500; seed++) {
      const rand = mulberry32(seed);
      const store = randomStore(rand);
      const filters = randomFilters(rand);
      const whole = join(dir, `w${seed}`);
      const streamed = join(dir, `s${seed}`);
      const withSidecar = store.sidecar !== '' || rand() < 0.5;
      const encoding = rand() < 0.7 ? 'utf8' : 'latin1'; // latin1: bytes that are not UTF-8
      for (const d of [whole, streamed]) {
        mkdirSync(d);
        writeFileSync(join(d, 'emissions.csv'), store.csv, encoding);
        if (withSidecar) writeFileSync(join(d, 'emissions.let.jsonl'), store.sidecar);
      }
      const warnings = { onWarning: (): void => undefined };
      let expected: number | StoreError;
      try {
        expected = deleteWhole(join(whole, 'emissions.csv'), checkFilters({ ...filters, outputDir: whole }), noLock, warnings);
      } catch (err) {
        expected = err as StoreError;
      }
      let actual: number | StoreError;
      try {
        actual = deleteStreamed(join(streamed, 'emissions.csv'), checkFilters({ ...filters, outputDir: streamed }), noLock, warnings);
      } catch (err) {
        actual = err as StoreError;
      }
      if (expected instanceof Error) {
        expect(actual, `seed ${seed}`).to.be.instanceOf(StoreError);
        expect((actual as StoreError).message.replace(streamed, 'D'), `seed ${seed}`).to.equal(expected.message.replace(whole, 'D'));
      } else expect(actual, `seed ${seed}: count`).to.equal(expected);
      expect(snapshot(streamed), `seed ${seed}: files`).to.deep.equal(snapshot(whole));
      if (typeof expected === 'number' && expected > 0) deleted++;
      else kept++;
    }
    // Both outcomes are common: rows deleted (files rewritten) and nothing to delete.
    expect(deleted).to.be.greaterThan(150);
    expect(kept).to.be.greaterThan(50);
  });

  it('dropSidecarEntries, read a part at a time, drops what parsing every line drops (400 cases)', () => {
    const ids = ['a', 'b-1', 'c\\d', 'é', 'e"f'];
    let rewritten = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const rand = mulberry32(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
      const lines: string[] = [];
      for (let n = Math.floor(rand() * 30); n > 0; n--) {
        const id = pick(ids);
        lines.push(
          pick([
            `${JSON.stringify({ run_id: id, user: 'u' })}\n`, // our writer's shape
            `${JSON.stringify({ run_id: id })}\n`,
            `{"run_id": ${JSON.stringify(id)}}\n`, // other spacing
            `{"run_id":"${id.replace(/./, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"}\n`, // escaped
            `{"run_id":"${id}", broken\n`, // our shape, not JSON
            `{"user":"x","run_id":${JSON.stringify(id)}}\n`, // another key order
            'not json\n',
            '\n',
          ]),
        );
      }
      let text = lines.join('');
      if (rand() < 0.3) text += '{"run_id":"a"'; // torn
      const drop = new Map<string, ReadonlySet<number> | 'all'>();
      for (const id of ids) if (rand() < 0.4) drop.set(id, rand() < 0.5 ? 'all' : new Set([Math.floor(rand() * 3), Math.floor(rand() * 3)]));
      const file = join(dir, `side-${seed}.jsonl`);
      writeFileSync(file, text);
      const expected = dropReference(Buffer.from(text), drop);
      expect(dropSidecarEntries(file, drop, noLock), `seed ${seed}: dropped`).to.equal(expected?.dropped ?? 0);
      expect(readFileSync(file), `seed ${seed}: text`).to.deep.equal(expected?.text ?? Buffer.from(text));
      if (expected) rewritten++;
    }
    expect(rewritten).to.be.greaterThan(150);
  });

  it('deleteResults takes it without backups: a file changed in place between the readings is refused, nothing deleted', () => {
    const records = Array.from({ length: 3000 }, (_, n) => makeRecord({ run_id: `run-${n}`, project_name: n % 2 === 0 ? 'even' : 'odd' }));
    writeFileSync(join(dir, 'emissions.csv'), formatHeader(CODECARBON_COLUMNS) + records.map((r) => formatRecordRow(r, CODECARBON_COLUMNS)).join(''));
    writeFileSync(join(dir, 'emissions.let.jsonl'), records.map(sidecarLine).join(''));
    const before = readFileSync(join(dir, 'emissions.csv'), 'latin1');
    // CodeCarbon writes without our lock: a row added in place while the store is read.
    const late = formatRecordRow(makeRecord({ run_id: 'late', project_name: 'even' }), CODECARBON_COLUMNS);
    let refreshes = 0;
    const writer = { refresh: (): void => void (++refreshes === 1 && appendFileSync(join(dir, 'emissions.csv'), late)) };
    expect(() => deleteStreamed(join(dir, 'emissions.csv'), checkFilters({ outputDir: dir, projectName: 'even' }), writer, {})).to.throw(StoreError, /changed by a program that does not take the store lock/);
    expect(readFileSync(join(dir, 'emissions.csv'), 'latin1')).to.equal(before + late);
    expect(readdirSync(dir).sort()).to.deep.equal(['emissions.csv', 'emissions.let.jsonl']);
    // Through deleteResults (the lock taken, no backups): the even runs go, with their lines.
    expect(deleteResults({ outputDir: dir, projectName: 'even' })).to.equal(1501);
    expect(loadResults({ outputDir: dir }).map((r) => r.run_id)).to.deep.equal(records.filter((_, n) => n % 2 === 1).map((r) => r.run_id));
    expect(readFileSync(join(dir, 'emissions.let.jsonl'), 'utf8').split('\n').filter((l) => l !== '')).to.have.length(1500);
    expect(statSync(join(dir, 'emissions.csv')).size).to.be.lessThan(before.length);
  });
});
