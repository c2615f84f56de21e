/** Shortest of `repeats` timed runs of an async workload, after one untimed warm-up run, in seconds. */
export async function minSeconds(fn: () => Promise<unknown>, repeats: number): Promise<number> {
  await fn();
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const started = performance.now();
    await fn();
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  return best;
}
