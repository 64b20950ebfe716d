import type { BucketUsage, Series } from '@llm-monitor/core';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatDateTime } from '../lib/format.js';
import { modelColor } from './colors.js';

interface Props {
  /** The x axis: the view's range (buckets at its edges are clipped to it). */
  from: number;
  to: number;
  title: string;
  testId: string;
  series: Series;
  models: readonly string[];
  value: (usage: BucketUsage) => number;
  /** For the legend. */
  format: (n: number) => string;
  /** For the y axis. */
  axisFormat: (n: number) => string;
  timeZone: string;
}

const HEIGHT = 240;

/**
 * One stacked bar per bucket, a layer per model (the first model at the bottom). uPlot draws the
 * running sums, largest first; the legend shows each model's own value under the cursor. A bar spans its
 * bucket's calendar bounds (a month, a 23-hour DST day), so x values are bucket midpoints, which also
 * makes the cursor pick the bucket under it.
 */
export function UsageChart({ from, to, title, testId, series, models, value, format, axisFormat, timeZone }: Props) {
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = box.current;
    if (!el || series.buckets.length === 0) return;
    const starts = series.buckets.map((b) => b.start);
    const ends = series.buckets.map((b) => b.end);
    const xs = series.buckets.map((b) => (b.start + b.end) / 2);
    const raw = models.map((m) => series.buckets.map((b) => (b.models[m] ? value(b.models[m]) : 0)));
    const stacked: number[][] = [];
    let running = xs.map(() => 0);
    for (const r of raw) {
      running = running.map((sum, i) => sum + r[i]!);
      stacked.push(running);
    }
    const order = models.map((_, i) => i).reverse();
    const bars = bucketBars(starts, ends);
    const stamp = new Intl.DateTimeFormat('en-CA', { timeZone, dateStyle: 'short', timeStyle: 'short', hourCycle: 'h23' });
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height: HEIGHT,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timeZone),
      // both charts show the same bucket under the cursor
      cursor: { drag: { x: false, y: false }, points: { show: false }, sync: { key: 'overview-buckets' } },
      legend: { live: true },
      scales: { x: { time: true, range: () => [from, to] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] } },
      axes: [
        { stroke: '#555', grid: { stroke: '#eee' }, ticks: { stroke: '#ddd' }, values: (_u, splits) => splits.map((t) => timeLabel(t, to - from, timeZone)) },
        { stroke: '#555', grid: { stroke: '#eee' }, ticks: { stroke: '#ddd' }, size: 64, values: (_u, splits) => splits.map((v) => axisFormat(v)) },
      ],
      series: [
        { label: 'Bucket', value: (_u, _v, _s, idx) => (idx == null ? '—' : stamp.format(starts[idx]! * 1000)) },
        ...order.map((i) => ({
          label: models[i]!,
          stroke: modelColor(i),
          fill: modelColor(i),
          width: 0,
          paths: bars,
          points: { show: false },
          value: (_u: uPlot, _v: number | null, _s: number, idx: number | null) => (idx == null ? '—' : format(raw[i]![idx]!)),
        })),
      ],
    };
    const data: uPlot.AlignedData = [xs, ...order.map((i) => stacked[i]!)];
    const chart = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(300, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [from, to, series, models, value, format, axisFormat, timeZone]);

  return (
    <figure class="chart" data-testid={testId}>
      <figcaption>
        {title} <span class="muted">per {series.bucket}</span>
      </figcaption>
      {series.buckets.length === 0 ? <p class="empty">No activity in this range.</p> : <div ref={box} class="chart-box" />}
    </figure>
  );
}

/** Bars from each bucket's start to its end, with a small gap; heights are the series' values. */
function bucketBars(starts: readonly number[], ends: readonly number[]): uPlot.Series.PathBuilder {
  return (u, seriesIdx, idx0, idx1) => {
    const fill = new Path2D();
    const ys = u.data[seriesIdx]!;
    const base = u.valToPos(0, 'y', true);
    for (let i = idx0; i <= idx1; i++) {
      const v = ys[i];
      if (v == null || v <= 0) continue;
      let x0 = u.valToPos(starts[i]!, 'x', true);
      let x1 = u.valToPos(ends[i]!, 'x', true);
      const gap = Math.min(3 * devicePixelRatio, (x1 - x0) * 0.15);
      x0 += gap / 2;
      x1 -= gap / 2;
      const top = u.valToPos(v, 'y', true);
      fill.rect(x0, top, Math.max(1, x1 - x0), base - top);
    }
    return { fill, stroke: null };
  };
}

/** 24-hour clock times for short ranges (the date at midnight), dates for longer ones, months beyond a year. */
function timeLabel(t: number, span: number, timeZone: string): string {
  const text = formatDateTime(t, timeZone); // YYYY-MM-DD HH:MM
  if (span > 400 * 86_400) return text.slice(0, 7);
  if (span > 3 * 86_400 || text.endsWith('00:00')) return text.slice(5, 10);
  return text.slice(11);
}
