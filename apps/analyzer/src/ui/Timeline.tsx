import { memo } from 'preact/compat';
import { type Bucket, type ModelRunTime, bucketBoundaries, formatDateTime, formatDuration, formatNumber } from '@llm-monitor/core';
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatShare } from '../lib/format.js';
import { coveredSeconds } from '../lib/runs.js';
import { PROGRAM_COLOR } from './colors.js';

interface Props {
  from: number;
  to: number;
  timeZone: string;
  programRuns: readonly ModelRunTime[];
  /** In the file's model order. */
  models: readonly { name: string; runs: readonly ModelRunTime[]; color: string }[];
  /** False for S7 files, which record no program runs. */
  hasProgramTable: boolean;
}

const ROW = 26;
const AXIS = 24;

interface Segment {
  x: number;
  width: number;
  /** The first run drawn in this segment, for its tooltip; `count` runs were merged into it. */
  run: ModelRunTime;
  count: number;
  seconds: number;
  open: boolean;
}

/**
 * Runs of the program and of every model on one time axis. Runs narrower than a pixel are merged with
 * their neighbours, so a file with a hundred thousand runs draws at most one rectangle per pixel.
 */
export const Timeline = memo(function Timeline({ from, to, timeZone, programRuns, models, hasProgramTable }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(900);
  const [tableOpen, setTableOpen] = useState(false);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setWidth(el.clientWidth));
    observer.observe(el);
    setWidth(el.clientWidth);
    return () => observer.disconnect();
  }, []);

  const labelWidth = width < 600 ? 96 : 230;
  const plot = Math.max(120, width - labelWidth - 12);
  const scale = plot / (to - from);
  const rows = [
    ...(hasProgramTable ? [{ name: 'Program', runs: programRuns, color: PROGRAM_COLOR, program: true }] : []),
    ...models.map((m) => ({ name: m.name, runs: m.runs, color: m.color, program: false })),
  ];
  const height = AXIS + rows.length * ROW + 4;
  const ticks = axisTicks(from, to, timeZone, Math.max(2, Math.floor(plot / 120)));

  return (
    <div ref={box} class="timeline" data-testid="timeline">
      <svg width={labelWidth + plot + 8} height={height} role="img" aria-label="Runtime timeline: when the program and each model ran. The table below lists the same.">
        {ticks.map((t) => {
          const x = labelWidth + (t - from) * scale;
          const label = tickLabel(t, timeZone, to - from);
          return (
            <g key={t}>
              <line x1={x} x2={x} y1={AXIS - 4} y2={height} class="tick" />
              {x + 3 + label.length * 6.5 <= labelWidth + plot + 8 && (
                <text x={x + 3} y={AXIS - 8} class="tick-label">
                  {label}
                </text>
              )}
            </g>
          );
        })}
        {rows.map((row, r) => {
          const y = AXIS + r * ROW;
          const segments = pixelSegments(row.runs, from, to, scale);
          return (
            <g key={row.name} data-testid="timeline-row" data-model={row.program ? '' : row.name}>
              <rect x={0} y={y} width={labelWidth + plot + 8} height={ROW} class={r % 2 ? 'band odd' : 'band'} />
              <text x={8} y={y + ROW / 2 + 4} class={row.program ? 'row-label program' : 'row-label'}>
                <title>{row.name}</title>
                {truncate(row.name, labelWidth < 200 ? 12 : 32)}
              </text>
              {segments.map((s) => (
                <rect
                  key={s.x}
                  x={labelWidth + s.x}
                  y={y + 5}
                  width={s.width}
                  height={ROW - 10}
                  rx={2}
                  fill={row.color}
                  opacity={s.open ? 0.55 : 0.9}
                  data-testid="run"
                >
                  <title>{runTitle(row.name, s, timeZone)}</title>
                </rect>
              ))}
            </g>
          );
        })}
      </svg>
      <p class="muted small">
        Bars are runs clipped to the range; a pale bar is an open run (started, never ended nor heart-beaten, drawn a pixel wide). Hover a bar for its times.
      </p>
      <details data-testid="timeline-table" onToggle={(e) => setTableOpen((e.currentTarget as HTMLDetailsElement).open)}>
        <summary>Table of the timeline</summary>
        {tableOpen && (
          <div class="table-wrap" role="region" aria-label="Runs in the range, as a table" tabIndex={0}>
            <table class="data">
              <thead>
                <tr>
                  <th scope="col">Runs of</th>
                  <th scope="col" class="num">
                    Runs in range
                  </th>
                  <th scope="col" class="num">
                    Up
                  </th>
                  <th scope="col" class="num">
                    Share of range
                  </th>
                  <th scope="col">First start</th>
                  <th scope="col">Last end</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => {
                  const inRange = row.runs.filter((r) => r.endTime >= from && r.startTime < to);
                  const up = coveredSeconds(inRange, from, to);
                  return (
                    <tr key={row.name}>
                      <th scope="row" class="name">
                        {row.name}
                      </th>
                      <td class="num">{formatNumber(inRange.length)}</td>
                      <td class="num">{formatDuration(up)}</td>
                      <td class="num">{formatShare(up, to - from)}</td>
                      <td>{inRange.length ? formatDateTime(inRange.reduce((t, r) => Math.min(t, r.startTime), Infinity), timeZone) : '—'}</td>
                      <td>{inRange.length ? formatDateTime(inRange.reduce((t, r) => Math.max(t, r.endTime), 0), timeZone) : '—'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </details>
    </div>
  );
});

function pixelSegments(runs: readonly ModelRunTime[], from: number, to: number, scale: number): Segment[] {
  const clipped = runs
    .filter((r) => r.endTime >= from && r.startTime < to)
    .map((r) => ({ run: r, a: Math.max(r.startTime, from), b: Math.min(Math.max(r.endTime, r.startTime), to) }))
    .sort((p, q) => p.a - q.a);
  const segments: Segment[] = [];
  for (const { run, a, b } of clipped) {
    const x0 = (a - from) * scale;
    const x1 = Math.max(x0 + 1, (b - from) * scale);
    const open = run.endTime === run.startTime;
    const last = segments[segments.length - 1];
    if (last && x0 <= last.x + last.width + 0.5) {
      last.width = Math.max(last.width, x1 - last.x);
      last.count++;
      last.seconds += b - a;
      last.open &&= open;
      continue;
    }
    segments.push({ x: x0, width: x1 - x0, run, count: 1, seconds: b - a, open });
  }
  return segments;
}

function runTitle(name: string, s: Segment, timeZone: string): string {
  const run = s.run;
  const head = `${name}\n${formatDateTime(run.startTime, timeZone, 'second')} → ${formatDateTime(run.endTime, timeZone, 'second')}`;
  if (s.count > 1) return `${name}\n${s.count} runs, ${formatDuration(s.seconds)} in view (merged at this zoom)`;
  return run.endTime === run.startTime ? `${head}\nopen run: never ended nor heart-beaten` : `${head}\n${formatDuration(run.endTime - run.startTime)}`;
}

const BUCKET_SECONDS: Record<Bucket, number> = { hour: 3600, day: 86_400, week: 604_800, month: 2_592_000 };
const HOUR_STEPS = [1, 2, 3, 6, 12];

/** Tick positions on zone-aligned boundaries (hours, midnights, Mondays, first of months), at most `max`. */
function axisTicks(from: number, to: number, timeZone: string, max: number): number[] {
  for (const bucket of ['hour', 'day', 'week', 'month'] as const) {
    const estimate = (to - from) / BUCKET_SECONDS[bucket];
    if (estimate > max * (bucket === 'hour' ? 12 : bucket === 'day' ? 7 : bucket === 'week' ? 4 : 1e9)) continue;
    const bounds = bucketBoundaries(from, to, bucket, timeZone).filter((t) => t >= from && t <= to);
    let step = Math.ceil(bounds.length / max);
    if (bucket === 'hour') step = HOUR_STEPS.find((s) => s >= step) ?? step;
    return bounds.filter((_, i) => i % step === 0);
  }
  return [];
}

function tickLabel(t: number, timeZone: string, span: number): string {
  const text = formatDateTime(t, timeZone);
  if (span <= 2 * 86_400) return text.slice(5); // MM-DD HH:MM
  return text.slice(0, 10);
}

function truncate(text: string, n: number): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}
