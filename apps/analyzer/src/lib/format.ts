/**
 * What only the analyzer shows: file sizes, compact axis ticks and shares. Every other number, time and
 * cost goes through core's formats (`@llm-monitor/core`); full precision goes into `data-value` attributes.
 */

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** 1.2K, 3.4M, 5.6B: for chart axes, where a tick has a few characters of room. */
export function formatCompact(n: number): string {
  const abs = Math.abs(n);
  const trim = (x: number) => String(Number(x.toFixed(Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2)));
  if (abs >= 1e9) return `${trim(n / 1e9)}B`;
  if (abs >= 1e6) return `${trim(n / 1e6)}M`;
  if (abs >= 1e3) return `${trim(n / 1e3)}K`;
  if (abs > 0 && abs < 0.01) return n.toPrecision(2);
  return trim(n);
}

/** A share of a whole as a percentage: `42%`, `0.5%`, `<0.1%`. */
export function formatShare(part: number, whole: number): string {
  if (whole <= 0) return '—';
  const p = (100 * part) / whole;
  if (p === 0) return '0%';
  if (p < 0.1) return '<0.1%';
  return `${p >= 10 ? Math.round(p) : Number(p.toFixed(1))}%`;
}
