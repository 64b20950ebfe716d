/**
 * Seconds of `[from, to)` covered by at least one of the runs. Runs of several models (or several
 * program instances) overlap, so their uptime is merged, never summed: the result never exceeds the window.
 */
export function coveredSeconds(runs: readonly { startTime: number; endTime: number }[], from: number, to: number): number {
  const clipped = runs
    .map((r) => [Math.max(r.startTime, from), Math.min(r.endTime, to)] as const)
    .filter(([a, b]) => b > a)
    .sort((p, q) => p[0] - q[0]);
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const [a, b] of clipped) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}
