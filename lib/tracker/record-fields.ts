/** Record fields formatted as CodeCarbon writes them. */

/** Local time as CodeCarbon writes it: `YYYY-MM-DDTHH:MM:SS`, no zone. */
export function localTimestamp(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** `gpu_model` as CodeCarbon writes it: `2 x NVIDIA H200`, several models joined by `, `. */
export function gpuModelField(names: string[]): string {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts].map(([name, count]) => `${count} x ${name}`).join(', ');
}
