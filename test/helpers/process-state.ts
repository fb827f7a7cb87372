/** Helpers that change process-wide state for the length of one call and put it back. */

/** Run `fn` with process.stdout's writes captured (not printed); its value and what it wrote. */
export function captureStdout<T>(fn: () => T): { value: T; output: string } {
  const write = process.stdout.write.bind(process.stdout);
  let output = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    output += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    return { value: fn(), output };
  } finally {
    process.stdout.write = write;
  }
}

/** Run `body` with `LET_SAMPLER_IDLE_MS` set to `ms`, then restore it (or unset it again). */
export async function withIdleMs<T>(ms: string, body: () => Promise<T>): Promise<T> {
  const previous = process.env.LET_SAMPLER_IDLE_MS;
  process.env.LET_SAMPLER_IDLE_MS = ms;
  try {
    return await body();
  } finally {
    if (previous === undefined) delete process.env.LET_SAMPLER_IDLE_MS;
    else process.env.LET_SAMPLER_IDLE_MS = previous;
  }
}
