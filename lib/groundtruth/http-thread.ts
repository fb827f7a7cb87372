/**
 * Plain-HTTP GETs to plugs and ground-truth servers, run on one worker thread per process.
 *
 * Why a thread: `EnergyTracker.stop()` is synchronous, and a synchronous workload between
 * `start()` and `stop()` never yields to the event loop. Requests made on the main thread would
 * not even be sent before `stop()`. The worker sends them at once; the main thread either
 * waits for the result asynchronously (a message) or synchronously (`Atomics.wait` on a
 * shared buffer, bounded by the deadline), so `stop()` stays synchronous and bounded.
 *
 * Threads: `requestSequence()` and `HttpJob.wait*()` run on the calling (main) thread; the
 * worker (source below, plain JavaScript) runs the GETs one after the other and writes the
 * results into the job's shared buffer, then posts a message. The worker is owned by this
 * module, created on first use, unref'd while idle (it never keeps a process alive) and
 * terminated by {@link closeHttpThread}.
 */
import type { Worker } from 'node:worker_threads';

/** One GET of a sequence. */
export interface HttpStep {
  url: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Credentials for HTTP Basic, or Digest (RFC 7616, SHA-256 or MD5) when the server challenges with it. */
  basicAuth?: { user: string; password: string };
}

/** What one GET gave: a response or an error. Times are this machine's epoch ms. */
export type HttpOutcome =
  | {
      ok: true;
      url: string;
      status: number;
      headers: Record<string, string>;
      body: string;
      sentAtMs: number;
      receivedAtMs: number;
    }
  | {
      ok: false;
      url: string;
      /** `timeout` (no answer in time), `network` (refused, unreachable, reset), `too-large`. */
      error: 'timeout' | 'network' | 'too-large';
      message: string;
      sentAtMs: number;
    };

const BUFFER_BYTES = 256 * 1024;

// The worker's source: CommonJS, no imports from this package (it runs from dist/ and from
// the TypeScript sources alike). Header: Int32 [state, byteLength]; then UTF-8 JSON.
const WORKER_SOURCE = String.raw`
const { parentPort } = require('node:worker_threads');
const http = require('node:http');
const https = require('node:https');
const crypto = require('node:crypto');
const MAX_BODY = 32 * 1024;

function digestHeader(challenge, auth, method, url) {
  const params = {};
  for (const m of challenge.replace(/^Digest\s+/i, '').matchAll(/(\w+)=("([^"]*)"|[^,\s]*)/g)) params[m[1].toLowerCase()] = m[3] !== undefined ? m[3] : m[2];
  const algorithm = (params.algorithm || 'MD5').toUpperCase();
  const hashName = algorithm.startsWith('SHA-256') ? 'sha256' : 'md5';
  const h = (s) => crypto.createHash(hashName).update(s).digest('hex');
  const uri = url.pathname + url.search;
  const cnonce = crypto.randomBytes(8).toString('hex');
  const nc = '00000001';
  const ha1 = h(auth.user + ':' + params.realm + ':' + auth.password);
  const ha2 = h(method + ':' + uri);
  const qop = params.qop ? 'auth' : undefined;
  const response = qop ? h(ha1 + ':' + params.nonce + ':' + nc + ':' + cnonce + ':' + qop + ':' + ha2) : h(ha1 + ':' + params.nonce + ':' + ha2);
  let header = 'Digest username="' + auth.user + '", realm="' + params.realm + '", nonce="' + params.nonce + '", uri="' + uri + '", algorithm=' + algorithm + ', response="' + response + '"';
  if (qop) header += ', qop=' + qop + ', nc=' + nc + ', cnonce="' + cnonce + '"';
  if (params.opaque) header += ', opaque="' + params.opaque + '"';
  return header;
}

function get(step, deadlineMs, authHeader) {
  return new Promise((resolve) => {
    const sentAtMs = Date.now();
    let url;
    try { url = new URL(step.url); } catch (e) { resolve({ ok: false, url: step.url, error: 'network', message: 'invalid URL', sentAtMs }); return; }
    const headers = Object.assign({ accept: 'application/json', connection: 'close' }, step.headers || {});
    if (authHeader) headers.authorization = authHeader;
    else if (step.basicAuth) headers.authorization = 'Basic ' + Buffer.from(step.basicAuth.user + ':' + step.basicAuth.password).toString('base64');
    let settled = false;
    const finish = (outcome) => { if (!settled) { settled = true; clearTimeout(timer); resolve(outcome); } };
    const lib = url.protocol === 'https:' ? https : http;
    const request = lib.get(url, { headers, agent: false }, (response) => {
      const chunks = [];
      let size = 0;
      response.on('data', (chunk) => {
        size += chunk.length;
        if (size > MAX_BODY) { request.destroy(); finish({ ok: false, url: step.url, error: 'too-large', message: 'response larger than ' + MAX_BODY + ' bytes', sentAtMs }); return; }
        chunks.push(chunk);
      });
      response.on('end', () => {
        const flat = {};
        for (const [k, v] of Object.entries(response.headers)) flat[k] = Array.isArray(v) ? v.join(', ') : String(v);
        finish({ ok: true, url: step.url, status: response.statusCode || 0, headers: flat, body: Buffer.concat(chunks).toString('utf8'), sentAtMs, receivedAtMs: Date.now() });
      });
      response.on('error', (e) => finish({ ok: false, url: step.url, error: 'network', message: e.code || e.message, sentAtMs }));
    });
    request.on('error', (e) => finish({ ok: false, url: step.url, error: 'network', message: e.code || e.message, sentAtMs }));
    const timer = setTimeout(() => { finish({ ok: false, url: step.url, error: 'timeout', message: 'no answer', sentAtMs }); request.destroy(); }, Math.max(1, deadlineMs - Date.now()));
  });
}

async function run(job) {
  const results = [];
  for (const step of job.steps) {
    if (Date.now() >= job.deadlineMs) { results.push({ ok: false, url: step.url, error: 'timeout', message: 'no time left', sentAtMs: Date.now() }); break; }
    let outcome = await get(step, job.deadlineMs);
    const challenge = outcome.ok && outcome.status === 401 ? outcome.headers['www-authenticate'] : undefined;
    if (challenge && /^Digest/i.test(challenge) && step.basicAuth) {
      outcome = await get(step, job.deadlineMs, digestHeader(challenge, step.basicAuth, 'GET', new URL(step.url)));
    }
    results.push(outcome);
    if (!outcome.ok || outcome.status >= 300) break;
  }
  const bytes = Buffer.from(JSON.stringify(results), 'utf8');
  const state = new Int32Array(job.shared, 0, 2);
  if (bytes.length > job.shared.byteLength - 8) {
    state[1] = -1;
  } else {
    new Uint8Array(job.shared, 8, bytes.length).set(bytes);
    state[1] = bytes.length;
  }
  Atomics.store(state, 0, 1);
  Atomics.notify(state, 0);
  parentPort.postMessage(job.id);
}

parentPort.on('message', (job) => { run(job); });
`;

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, () => void>();

function thread(): Worker {
  if (worker !== null) return worker;
  const { Worker } = process.getBuiltinModule('node:worker_threads'); // loaded here, not on import
  const created = new Worker(WORKER_SOURCE, { eval: true, name: 'lamarr-energy-tracker ground truth' });
  created.on('message', (id: number) => {
    const done = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) created.unref();
    done?.();
  });
  created.on('error', () => {
    // A crashed worker: the jobs' deadlines end their waits; the next request starts a new one.
    if (worker === created) worker = null;
  });
  created.on('exit', () => {
    if (worker === created) worker = null;
  });
  created.unref();
  worker = created;
  return created;
}

/** A sequence of GETs in flight on the worker. */
export class HttpJob {
  private readonly state: Int32Array;
  private outcomes: HttpOutcome[] | null = null;
  private readonly settled: Promise<void>;

  /** @internal use {@link requestSequence}. */
  constructor(
    private readonly shared: SharedArrayBuffer,
    /** Epoch ms after which the job counts as timed out. */
    readonly deadlineMs: number,
    private readonly steps: readonly HttpStep[],
    settled: Promise<void>,
  ) {
    this.state = new Int32Array(shared, 0, 2);
    this.settled = settled;
  }

  /** Whether the results are in (never blocks). */
  get done(): boolean {
    return Atomics.load(this.state, 0) === 1;
  }

  /**
   * Block the calling thread until the results are in or the deadline passes (then the
   * missing steps read as timeouts). Never waits past `deadlineMs` (+ a few ms of scheduling).
   */
  waitSync(): HttpOutcome[] {
    const left = this.deadlineMs - Date.now();
    if (Atomics.load(this.state, 0) === 0 && left > 0) Atomics.wait(this.state, 0, 0, left + 20);
    return this.collect();
  }

  /** The results, awaited without blocking (bounded by the deadline as well). */
  async wait(): Promise<HttpOutcome[]> {
    if (!this.done) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, this.deadlineMs - Date.now()) + 20);
      });
      await Promise.race([this.settled, timeout]);
      clearTimeout(timer);
    }
    return this.collect();
  }

  private collect(): HttpOutcome[] {
    if (this.outcomes !== null) return this.outcomes;
    if (Atomics.load(this.state, 0) !== 1) {
      // Not in time: every step reads as a timeout (the worker's late answer is ignored).
      return this.steps.map((step) => ({ ok: false, url: step.url, error: 'timeout', message: 'no answer in time', sentAtMs: this.deadlineMs }));
    }
    const length = this.state[1]!;
    if (length < 0) {
      this.outcomes = this.steps.map((step) => ({ ok: false, url: step.url, error: 'too-large', message: 'responses too large', sentAtMs: this.deadlineMs }));
    } else {
      const bytes = new Uint8Array(length);
      bytes.set(new Uint8Array(this.shared, 8, length));
      this.outcomes = JSON.parse(Buffer.from(bytes).toString('utf8')) as HttpOutcome[];
    }
    return this.outcomes;
  }
}

/**
 * Start GETs `steps` one after the other on the worker thread (stopping at the first error or
 * non-2xx status), all within `timeoutMs` from now. Returns at once.
 */
export function requestSequence(steps: readonly HttpStep[], timeoutMs: number): HttpJob {
  const shared = new SharedArrayBuffer(BUFFER_BYTES);
  const id = nextId++;
  const deadlineMs = Date.now() + timeoutMs;
  try {
    const target = thread();
    const settled = new Promise<void>((resolve) => pending.set(id, resolve));
    target.ref();
    target.postMessage({ id, steps, deadlineMs, shared });
    return new HttpJob(shared, deadlineMs, steps, settled);
  } catch (error) {
    // No thread (a runtime without worker_threads, a resource limit): every step fails at once.
    pending.delete(id);
    const outcomes: HttpOutcome[] = steps.map((step) => ({ ok: false, url: step.url, error: 'network', message: `no HTTP thread: ${(error as Error).message}`, sentAtMs: Date.now() }));
    const bytes = Buffer.from(JSON.stringify(outcomes), 'utf8');
    new Uint8Array(shared, 8, bytes.length).set(bytes);
    const state = new Int32Array(shared, 0, 2);
    state[1] = bytes.length;
    Atomics.store(state, 0, 1);
    return new HttpJob(shared, deadlineMs, steps, Promise.resolve());
  }
}

/** Terminate the worker thread (tests; a later request starts a new one). */
export async function closeHttpThread(): Promise<void> {
  const current = worker;
  worker = null;
  for (const done of pending.values()) done();
  pending.clear();
  if (current !== null) await current.terminate();
}
