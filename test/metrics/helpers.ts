/**
 * Helpers for the metrics tests: the `monitor` command in a child process, a real Prometheus
 * server on loopback, and bounded polling. Every child is killed by `stop()` (call it in
 * `afterEach`/`after`, so that a failing test leaves nothing running).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO, 'lib/cli/bin.ts');

/** Poll `check` every `everyMs` until it returns a value other than undefined, or fail after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
}

/** A free TCP port on 127.0.0.1 (bound and released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A child process with its output collected. */
export interface Child {
  readonly process: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Resolves with the exit code (or signal) once the child exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL the child if it still runs. */
  kill(): void;
}

function collect(child: ChildProcess): Child {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr?.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    process: child,
    output: () => ({ stdout, stderr }),
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Start `lamarr-energy-tracker monitor <args>` (from source) and wait for its URL. */
export async function startMonitorChild(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Child & { url: string; port: number }> {
  const child = collect(
    spawn(process.execPath, ['--import', 'tsx', BIN, 'monitor', '--port', '0', ...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  try {
    const url = await waitFor('the monitor to serve', () => {
      const { stdout, stderr } = child.output();
      if (child.process.exitCode !== null) throw new Error(`monitor exited ${child.process.exitCode}: ${stderr}`);
      return /metrics at (http:\/\/\S+)\n/.exec(stdout)?.[1];
    });
    return { ...child, url, port: Number(new URL(url).port) };
  } catch (error) {
    child.kill();
    throw error;
  }
}

/** The `prometheus` binary's version line, or an error that says how to install it. */
export function prometheusVersion(): string {
  const result = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(
      'the prometheus binary is needed for this test and was not found: install it with `apt-get update && apt-get install -y prometheus` (.ci/run does)',
    );
  }
  return `${result.stdout}${result.stderr}`.split('\n')[0]!;
}

/** A Prometheus server on loopback scraping `targets` every second, with its HTTP API. */
export interface PrometheusServer extends Child {
  readonly port: number;
  /** `/api/v1/query` at `atMs` (ms since the epoch; default now): the `data.result` array. */
  query<R = unknown>(expression: string, atMs?: number): Promise<R[]>;
  /** SIGKILL and remove the data directory. */
  stop(): void;
}

/** Start Prometheus 2.x with a generated config (scrape interval 1 s) and wait until it is ready. */
export async function startPrometheus(targets: string[]): Promise<PrometheusServer> {
  prometheusVersion();
  const dir = mkdtempSync(join(tmpdir(), 'let-prometheus-'));
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: let',
    '    scrape_interval: 1s',
    '    scrape_timeout: 900ms',
    '    static_configs:',
    `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const child = collect(
    spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  const base = `http://127.0.0.1:${port}`;
  const stop = (): void => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('Prometheus to be ready', async () => {
      if (child.process.exitCode !== null) throw new Error(`prometheus exited ${child.process.exitCode}: ${child.output().stderr}`);
      const response = await fetch(`${base}/-/ready`);
      return response.ok ? true : undefined;
    }, 30000, 200);
  } catch (error) {
    stop();
    throw error;
  }
  return {
    ...child,
    port,
    stop,
    query: async <R>(expression: string, atMs?: number): Promise<R[]> => {
      const params = new URLSearchParams({ query: expression });
      if (atMs !== undefined) params.set('time', new Date(atMs).toISOString());
      const response = await fetch(`${base}/api/v1/query?${params}`);
      const body = (await response.json()) as { status: string; error?: string; data?: { result: R[] } };
      if (body.status !== 'success') throw new Error(`query ${expression} failed: ${body.error}`);
      return body.data!.result;
    },
  };
}

export const DASHBOARD_PATH = fileURLToPath(new URL('../../docs/grafana/lamarr-energy-tracker.json', import.meta.url));

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ expr: string; refId: string }>;
}

/** Every PromQL expression of the dashboard (panel targets and template variable queries). */
export function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as {
    panels: DashboardPanel[];
    templating: { list: Array<{ type: string; query?: string | { query: string } }> };
  };
  const expressions = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query' || variable.query === undefined) continue;
    expressions.push(typeof variable.query === 'string' ? variable.query : variable.query.query);
  }
  return expressions;
}

