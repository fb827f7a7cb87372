/**
 * Every example in README.md runs as written:
 * - each ```ts block is run as its own module (in order, sharing one store) with tsx, importing
 *   'lamarr-energy-tracker' by name (the package resolves itself through its `exports`);
 * - each `npx lamarr-energy-tracker …` line of the ```bash blocks is run with the real
 *   executable. Other bash lines (npm ci, npm install) set up a machine and are not run here;
 *   ```sh blocks change the system (sudo) and are covered by test/scripts/rapl-access.test.ts.
 * HOME points to a temporary directory, so `~/.let` is a fresh store.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../lib/version.js';
import { CLI_PATH, ensureBuilt } from './helpers/cli.js';

interface CodeBlock {
  language: string;
  code: string;
  line: number;
}

function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const pattern = /^```(\w*)\n([\s\S]*?)^```/gm;
  for (let match = pattern.exec(markdown); match !== null; match = pattern.exec(markdown)) {
    blocks.push({ language: match[1]!, code: match[2]!, line: markdown.slice(0, match.index).split('\n').length });
  }
  return blocks;
}

/** Split a shell line into words (double quotes and ~ expansion, as bash does for these examples). */
function shellWords(line: string, home: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let match = pattern.exec(line); match !== null; match = pattern.exec(line)) {
    if (match[1] !== undefined) words.push(match[1].replace(/\\(.)/g, '$1'));
    else words.push(match[2]!.replace(/^~(?=\/|$)/, home));
  }
  return words;
}

describe('README examples', function () {
  this.timeout(180000);
  const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
  const blocks = codeBlocks(readme);
  let home: string;
  let scratch: string;

  before(() => {
    ensureBuilt();
    home = mkdtempSync(join(tmpdir(), 'let-readme-home-'));
    scratch = join(PACKAGE_ROOT, '.tmp', `readme-${process.pid}`);
    mkdirSync(scratch, { recursive: true });
  });
  after(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  const env = () => ({ ...process.env, HOME: home, LET_OUTPUT_DIR: '', CUDA_VISIBLE_DEVICES: undefined });

  it('has the two commands first: set up and run the demo, set up and test', () => {
    const first = blocks[0]!;
    expect(first.language).to.equal('bash');
    expect(first.code).to.include('npm ci && npm run demo');
    expect(first.code).to.include('npm ci && npm run test:deps && npm test');
    const packageJson = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(packageJson.scripts).to.have.property('demo');
    expect(packageJson.scripts).to.have.property('test');
    expect(packageJson.scripts).to.have.property('test:deps');
    // CI runs the same command: npm ci, then test:deps, then npm test.
    const ci = readFileSync(join(PACKAGE_ROOT, '.ci', 'run'), 'utf8');
    const order = ['npm ci', 'npm run test:deps', 'npm test'].map((command) => ci.indexOf(`\n${command}`));
    expect(order.every((at) => at >= 0), JSON.stringify(order)).to.equal(true);
    expect([...order].sort((a, b) => a - b)).to.deep.equal(order);
  });

  it('`npm run demo` tracks a real workload, prints its energy (labelled) and the statement, and stores the run in ~/.let', () => {
    const packageJson = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    // The demo script with a 1-second workload instead of 5 (same code path).
    const [node, ...rest] = packageJson.scripts.demo!.split(' ');
    expect(node).to.equal('node');
    const result = spawnSync(process.execPath, [...rest, '--seconds', '1'], { cwd: PACKAGE_ROOT, env: env(), encoding: 'utf8', timeout: 120000 });
    expect(result.status, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/Tracker stopped - this experiment consumed \S+ (J|Wh|kWh) in /);
    expect(result.stdout).to.match(/CPU \S+ (J|Wh|kWh) (measured with|estimated from) /);
    expect(result.stdout).to.match(/Using the Lamarr Energy Tracker \S+ \(CPU energy (measured|estimated)/);
    const csv = readFileSync(join(home, '.let', 'emissions.csv'), 'utf8');
    expect(csv).to.include('lamarr-energy-tracker-demo');
  });

  it('has TypeScript and CLI examples to run', () => {
    expect(blocks.filter((block) => block.language === 'ts').length).to.be.at.least(5);
    expect(blocks.filter((block) => block.language === 'bash' && block.code.includes('npx lamarr-energy-tracker')).length).to.be.at.least(3);
  });

  for (const block of blocks) {
    if (block.language === 'ts') {
      it(`runs the TypeScript example at README.md line ${block.line}`, () => {
        const file = join(scratch, `example-${block.line}.ts`);
        writeFileSync(file, block.code);
        const result = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: PACKAGE_ROOT, env: env(), encoding: 'utf8', timeout: 170000 });
        expect(result.status, `${result.stdout}\n${result.stderr}`).to.equal(0);
        expect(result.stderr).to.not.match(/Error/);
      });
    }
    if (block.language === 'bash') {
      const commands = block.code
        .split('\n')
        .map((line) => line.replace(/\s+#.*$/, '').trim())
        .filter((line) => line.startsWith('npx lamarr-energy-tracker '));
      for (const command of commands) {
        it(`runs \`${command.slice(0, 90)}\` (README.md line ${block.line})`, () => {
          const args = shellWords(command, home).slice(2);
          const result = spawnSync(process.execPath, [CLI_PATH, ...args], { cwd: PACKAGE_ROOT, env: env(), encoding: 'utf8', timeout: 170000 });
          expect(result.status, `${result.stdout}\n${result.stderr}`).to.equal(0);
          expect(result.stdout.length).to.be.greaterThan(0);
        });
      }
    }
  }

  it('stored the examples\' runs in ~/.let/emissions.csv', () => {
    const csv = readFileSync(join(home, '.let', 'emissions.csv'), 'utf8');
    expect(csv.split('\n')[0]).to.match(/^timestamp,project_name,run_id,experiment_id,/);
    expect(csv).to.include('my-paper');
  });
});
