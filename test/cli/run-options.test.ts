/**
 * `run` option parsing (commander v14), without spawning: the action is replaced to capture
 * what runTracked would get.
 */
import { expect } from 'chai';
import { Command } from 'commander';
import { registerRunCommand, trackerOptionsFromFlags, type RunFlags } from '../../lib/cli/commands/run.js';

function parse(argv: string[]): { command: string; args: string[]; flags: RunFlags } {
  const program = new Command('lamarr-energy-tracker').enablePositionalOptions().exitOverride();
  registerRunCommand(program);
  const run = program.commands.find((c) => c.name() === 'run')!;
  run.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  let captured: { command: string; args: string[]; flags: RunFlags } | null = null;
  run.action((command: string, args: string[], flags: RunFlags) => {
    captured = { command, args, flags };
  });
  program.parse(argv, { from: 'user' });
  return captured!;
}

describe('lamarr-energy-tracker run: options', () => {
  it('parses every option and keeps the command and its own options after --', () => {
    const { command, args, flags } = parse([
      'run',
      '--project-name',
      'resnet',
      '--output-dir',
      '/tmp/x',
      '--country-iso-code',
      'FRA',
      '--carbon-intensity',
      '55.5',
      '--pue',
      '1.2',
      '--sampling-interval-ms',
      '100',
      '--gpu-ids',
      '0, GPU-ab12',
      '--tracking-mode',
      'process',
      '--no-save',
      '--no-summary',
      '--live',
      '--',
      'python3',
      '-u',
      'train.py',
      '--live',
    ]);
    expect(command).to.equal('python3');
    expect(args).to.deep.equal(['-u', 'train.py', '--live']);
    expect(flags).to.include({
      projectName: 'resnet',
      outputDir: '/tmp/x',
      countryIsoCode: 'FRA',
      carbonIntensity: 55.5,
      pue: 1.2,
      samplingIntervalMs: 100,
      trackingMode: 'process',
      save: false,
      summary: false,
      live: true,
    });
    expect(flags.gpuIds).to.deep.equal(['0', 'GPU-ab12']);
    const options = trackerOptionsFromFlags(flags, command, 999);
    expect(options).to.deep.include({
      projectName: 'resnet',
      outputDir: '/tmp/x',
      countryIsoCode: 'FRA',
      carbonIntensity: 55.5,
      pue: 1.2,
      samplingIntervalMs: 100,
      gpuIds: ['0', 'GPU-ab12'],
      trackingMode: 'process',
      attributionPid: 999,
      includeDescendants: true,
      save: false,
      printSummary: false,
      live: true,
    });
  });

  it('defaults: machine mode, saved, summary printed, project from the command name', () => {
    const { command, flags } = parse(['run', '--', '/opt/tools/bin/make', '-j8']);
    const options = trackerOptionsFromFlags(flags, command, 999);
    expect(options).to.include({ projectName: 'make', trackingMode: 'machine', save: true, printSummary: true, live: false });
    expect(options).to.not.have.property('attributionPid');
  });

  it('rejects bad values with the option named', () => {
    expect(() => parse(['run', '--tracking-mode', 'container', '--', 'true'])).to.throw(/--tracking-mode/);
    expect(() => parse(['run', '--pue', '0.9', '--', 'true'])).to.throw(/--pue/);
    expect(() => parse(['run', '--sampling-interval-ms', '0', '--', 'true'])).to.throw(/--sampling-interval-ms/);
    expect(() => parse(['run', '--gpu-ids', ' , ', '--', 'true'])).to.throw(/--gpu-ids/);
    expect(() => parse(['run'])).to.throw(/command/);
  });
});
