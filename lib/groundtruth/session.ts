/**
 * One run's ground truth: the start exchange is sent when the run starts (on the HTTP thread,
 * so it goes out even while a synchronous workload holds the main thread), the stop exchange
 * when it stops; `finishSync()` (for `stop()`) and `finish()` (for `stopAsync()`, `track()`,
 * `await using` and the CLI) both wait at most the configured timeout per exchange. Nothing
 * here throws: a source that fails gives `none:<reason>`.
 */
import { requestSequence, type HttpJob, type HttpOutcome, type HttpStep } from './http-thread.js';
import { PlugError, parseReading, readingSteps, type PlugReading } from './plugs.js';
import { describeGroundTruth, type GroundTruthConfig } from './config.js';
import { newWindowId, parseServerAnswer, serverStep, serverWindow, type ServerAnswer } from './server-client.js';
import { noGroundTruth, plugWindow, type WallEnergy } from './window.js';

type StartMark = { kind: 'plug'; reading: PlugReading } | { kind: 'server'; answer: ServerAnswer };

/** What to send and how to read it, per kind of source. */
interface Exchange {
  startSteps: HttpStep[];
  stopSteps: HttpStep[];
  parseStart(outcomes: readonly HttpOutcome[]): StartMark;
  finish(mark: StartMark, outcomes: readonly HttpOutcome[], runStartMs: number, runStopMs: number): WallEnergy;
}

function exchangeFor(config: GroundTruthConfig): Exchange {
  if (config.kind === 'plug') {
    const steps = readingSteps(config.plug);
    return {
      startSteps: steps,
      stopSteps: steps,
      parseStart: (outcomes) => ({ kind: 'plug', reading: parseReading(config.plug, outcomes) }),
      finish: (mark, outcomes, runStartMs, runStopMs) =>
        plugWindow((mark as Extract<StartMark, { kind: 'plug' }>).reading, parseReading(config.plug, outcomes), runStartMs, runStopMs),
    };
  }
  const window = newWindowId();
  return {
    startSteps: [serverStep(config.server, 'start', window)],
    stopSteps: [serverStep(config.server, 'stop', window)],
    parseStart: (outcomes) => ({ kind: 'server', answer: parseServerAnswer(config.server, outcomes[0]) }),
    finish: (mark, outcomes, runStartMs, runStopMs) =>
      serverWindow((mark as Extract<StartMark, { kind: 'server' }>).answer, parseServerAnswer(config.server, outcomes[0]), runStartMs, runStopMs),
  };
}

function failure(error: unknown, phase: 'start' | 'stop', source: string): WallEnergy {
  if (error instanceof PlugError) return noGroundTruth(error.reason, `at ${phase}: ${error.message}`);
  return noGroundTruth('error', `at ${phase}: ${source}: ${(error as Error)?.message ?? String(error)}`);
}

/** The ground truth of one run, from `begin()` to `finish()`. */
export class GroundTruthSession {
  private readonly exchange: Exchange;
  private readonly startJob: HttpJob;
  private readonly source: string;

  private constructor(
    private readonly config: GroundTruthConfig,
    /** The run's start, epoch ms. */
    private readonly runStartMs: number,
  ) {
    this.exchange = exchangeFor(config);
    this.source = describeGroundTruth(config);
    this.startJob = requestSequence(this.exchange.startSteps, config.timeoutMs);
  }

  /** Send the start exchange now (returns at once). */
  static begin(config: GroundTruthConfig, runStartMs: number): GroundTruthSession {
    return new GroundTruthSession(config, runStartMs);
  }

  /** The source in words. */
  get description(): string {
    return this.source;
  }

  private startMark(outcomes: readonly HttpOutcome[]): StartMark | WallEnergy {
    try {
      return this.exchange.parseStart(outcomes);
    } catch (error) {
      return failure(error, 'start', this.source);
    }
  }

  private result(mark: StartMark, outcomes: readonly HttpOutcome[], runStopMs: number): WallEnergy {
    try {
      return this.exchange.finish(mark, outcomes, this.runStartMs, runStopMs);
    } catch (error) {
      return failure(error, 'stop', this.source);
    }
  }

  /** The run's wall energy, blocking this thread at most the timeout per exchange. */
  finishSync(runStopMs: number): WallEnergy {
    const mark = this.startMark(this.startJob.waitSync());
    if (!('kind' in mark)) return mark;
    const stop = requestSequence(this.exchange.stopSteps, this.config.timeoutMs);
    return this.result(mark, stop.waitSync(), runStopMs);
  }

  /** The run's wall energy, awaited (at most the timeout per exchange). */
  async finish(runStopMs: number): Promise<WallEnergy> {
    const mark = this.startMark(await this.startJob.wait());
    if (!('kind' in mark)) return mark;
    const stop = requestSequence(this.exchange.stopSteps, this.config.timeoutMs);
    return this.result(mark, await stop.wait(), runStopMs);
  }
}
