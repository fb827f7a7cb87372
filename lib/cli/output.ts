/**
 * CLI output that pipes: a closed stdout (`| head -1`) ends the command quietly; large outputs
 * are written in chunks that wait for the pipe (bounded memory); text for a terminal has its
 * control characters escaped (a project name holding `\x1b[2J` must not clear the screen);
 * JSON is escaped so that it is both valid and inert on a terminal.
 */
import { Option, type Command } from 'commander';

/** Thrown (and caught by the CLI) when stdout was closed by its reader. */
export class OutputClosedError extends Error {
  constructor() {
    super('stdout was closed by its reader');
    this.name = 'OutputClosedError';
  }
}

let stdoutClosed = false;

function isClosedPipe(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

/**
 * Handle a reader that closes stdout or stderr (EPIPE): mark it closed and, unless `exit` is
 * false (`run`, whose command still runs), end the process quietly with status 0.
 */
export function handleClosedOutput(exit: boolean): void {
  const onError = (error: Error): void => {
    if (!isClosedPipe(error)) throw error;
    stdoutClosed = true;
    if (exit) process.exit(0);
  };
  process.stdout.on('error', onError);
  process.stderr.on('error', onError);
}

/** Whether stdout was found closed. */
export function outputClosed(): boolean {
  return stdoutClosed;
}

/**
 * Write `text` to stdout and wait until the stream took it (backpressure); rejects with
 * {@link OutputClosedError} when the reader has gone.
 */
export function writeOut(text: string): Promise<void> {
  if (stdoutClosed) return Promise.reject(new OutputClosedError());
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => {
      if (error && isClosedPipe(error)) {
        stdoutClosed = true;
        reject(new OutputClosedError());
      } else if (error) reject(error);
      else resolve();
    });
  });
}

/** Collects lines and writes them in chunks of about 64 KiB (one `write` per chunk). */
export class ChunkedWriter {
  private parts: string[] = [];
  private size = 0;
  /** Add `text`; writes (and waits) once the buffer is full. */
  async add(text: string): Promise<void> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= 65536) await this.flush();
  }
  /** Write what is buffered. */
  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    await writeOut(text);
  }
}

// C0 controls (but tab and line feed), DEL and C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_IN_CELL = /[\u0000-\u001f\u007f-\u009f]/g;

function visible(char: string): string {
  const code = char.charCodeAt(0);
  if (char === '\n') return '\\n';
  if (char === '\r') return '\\r';
  if (char === '\t') return '\\t';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** A table cell for a terminal: every control character (line breaks included) shown as an escape. */
export function escapeCell(text: string): string {
  return text.replace(CONTROL_IN_CELL, visible);
}

/** Text for a terminal: control characters other than tab and line feed shown as escapes. */
export function escapeText(text: string): string {
  return text.replace(CONTROL_IN_TEXT, visible);
}

/** `text` as it should go to stdout: escaped when stdout is a terminal, else byte for byte. */
export function forStdout(text: string): string {
  return process.stdout.isTTY === true ? escapeText(text) : text;
}

/**
 * JSON text that is inert on a terminal: DEL and the C1 controls (which JSON allows raw) are
 * written as `\u00XX` escapes; JSON.stringify already escapes the C0 controls.
 */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Add `--format <choices>` (default `fallback`) and `--json` (its alias for `json`) to `command`. */
export function addFormatOptions(command: Command, choices: readonly string[], fallback: string): Command {
  return command
    .addOption(new Option('--format <format>', 'output format').choices([...choices]).default(fallback))
    .option('--json', 'same as --format json');
}

/** The output format from `--format` and `--json`; conflicting values are an error. */
export function chosenFormat(flags: { format?: string; json?: boolean }, fallback: string): string {
  const format = flags.format ?? fallback;
  if (flags.json === true) {
    if (format !== 'json' && format !== fallback) throw new Error(`--json conflicts with --format ${format}`);
    return 'json';
  }
  return format;
}
