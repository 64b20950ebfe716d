import { type Cells, type ComparedCells, type HourOfWeek, WEEKDAYS } from '@llm-monitor/core';
import { useState } from 'preact/hooks';
import { type Show, showFor, unitLabel } from './figures.js';

/**
 * The hour-of-week matrix (7 weekdays × 24 local hours in the chosen zone) as a heatmap of five shades,
 * with a legend naming each shade's values and unit, and the same values as a table (every cell,
 * readable by keyboard and screen readers; the coloured grid itself is one image).
 */

export const MEASURES = [
  { key: 'requests', label: 'Requests' },
  { key: 'tokens', label: 'Tokens (input + output)' },
  { key: 'cost', label: 'Cost' },
  { key: 'runtimeHours', label: 'Runtime hours' },
  { key: 'idleHours', label: 'Idle hours' },
] as const;
export type Measure = (typeof MEASURES)[number]['key'];

type Matrix = { [K in keyof HourOfWeek]: HourOfWeek[K] extends Cells ? ComparedCells : HourOfWeek[K] };

/** Shade 0 is "none"; 1–4 are up to ¼, ½, ¾ and all of the largest value. */
export function shadeOf(value: number | null, max: number): number | null {
  if (value === null) return null;
  if (value <= 0 || max <= 0) return 0;
  return Math.min(4, Math.max(1, Math.ceil((value / max) * 4)));
}

const hourLabel = (h: number) => `${String(h).padStart(2, '0')}:00`;

interface Props {
  /** Per scope (total, then each model), its matrix. */
  scopes: { key: string; label: string; matrix: Matrix }[];
  currency: string | undefined;
  timeZone: string;
}

export function HourOfWeekHeatmap({ scopes, currency, timeZone }: Props) {
  const [measure, setMeasure] = useState<Measure>('idleHours');
  const [scopeKey, setScopeKey] = useState('');
  /** The table shows the change since the period before instead of the values. */
  const [changes, setChanges] = useState(false);
  const scope = scopes.find((s) => s.key === scopeKey) ?? scopes[0]!;
  const cells = scope.matrix[measure];
  const unit = unitLabel(cells.unit, currency);
  const show: Show = cells.unit === 'currency' ? showFor('currency', currency) : showFor(cells.unit, currency);
  const values = cells.values;
  const deltas = cells.delta;
  const tableValues = changes && deltas ? deltas : values;
  const signed = (v: number) => (v > 0 ? `+${show(v)}` : v < 0 ? `−${show(-v)}` : '0');
  const max = Math.max(0, ...values.map((v) => v ?? 0));
  const measureLabel = MEASURES.find((m) => m.key === measure)!.label;
  const peak = values.indexOf(max);
  const hasUnknown = values.includes(null);
  const summary =
    max > 0
      ? `${measureLabel} by hour of the week (${timeZone}), ${scope.label}: the most, ${show(max)}, on ${WEEKDAYS[Math.floor(peak / 24)]} at ${hourLabel(peak % 24)}. Every value is in the table below.`
      : `${measureLabel} by hour of the week (${timeZone}), ${scope.label}: none in this range.`;
  const legend = [0, 1, 2, 3, 4].map((s) => ({
    shade: s,
    text: s === 0 ? 'none' : max > 0 ? `up to ${show((max * s) / 4)}` : '',
  }));

  return (
    <div class="heatmap" data-testid="heatmap" data-measure={measure} data-scope={scope.key}>
      <div class="toolbar">
        <label class="field">
          Measure
          <select data-testid="heatmap-measure" value={measure} onChange={(e) => setMeasure(e.currentTarget.value as Measure)}>
            {MEASURES.map((m) => (
              <option key={m.key} value={m.key}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        {scopes.length > 1 && (
          <label class="field">
            Models
            <select data-testid="heatmap-scope" value={scope.key} onChange={(e) => setScopeKey(e.currentTarget.value)}>
              {scopes.map((s) => (
                <option key={s.key} value={s.key}>
                  {s.label}
                </option>
              ))}
            </select>
          </label>
        )}
        <p class="muted small">
          {measureLabel} in {unit}, per hour of the week in {timeZone} (Monday first).
        </p>
      </div>
      {cells.reason && <p class="muted small" data-testid="heatmap-reason">Note: {cells.reason}</p>}
      <div class="heatmap-grid" role="img" aria-label={summary} data-testid="heatmap-grid">
        <span class="heatmap-corner" aria-hidden="true" />
        {Array.from({ length: 24 }, (_, h) => (
          <span key={`h${h}`} class="heatmap-hour" aria-hidden="true">
            {h % 3 === 0 ? h : ''}
          </span>
        ))}
        {WEEKDAYS.map((day, d) => [
          <span key={day} class="heatmap-day" aria-hidden="true">
            {day}
          </span>,
          ...Array.from({ length: 24 }, (_, h) => {
            const v = values[d * 24 + h]!;
            const shade = shadeOf(v, max);
            return (
              <span
                key={`${day}${h}`}
                class={`heatmap-cell shade-${shade ?? 'unknown'}`}
                title={`${day} ${hourLabel(h)}–${hourLabel((h + 1) % 24)}: ${v === null ? 'not known' : show(v)}`}
                data-shade={shade ?? 'unknown'}
                aria-hidden="true"
              />
            );
          }),
        ])}
      </div>
      <ul class="heatmap-legend small" aria-label={`Legend, ${unit}`} data-testid="heatmap-legend">
        {legend.map((l) => (
          <li key={l.shade}>
            <span class={`heatmap-cell shade-${l.shade}`} aria-hidden="true" /> {l.text}
          </li>
        ))}
        {hasUnknown && (
          <li>
            <span class="heatmap-cell shade-unknown" aria-hidden="true" /> not known
          </li>
        )}
        <li class="muted">({unit})</li>
      </ul>
      <details class="heatmap-table">
        <summary>Table of every hour ({unit})</summary>
        {deltas && (
          <label class="check small">
            <input type="checkbox" data-testid="heatmap-changes" checked={changes} onChange={(e) => setChanges(e.currentTarget.checked)} /> Show the change since the
            period before
          </label>
        )}
        <div class="table-wrap" role="region" aria-label={`${measureLabel} by hour of the week, as a table`} tabIndex={0}>
          <table class="data compact" data-testid="heatmap-table">
            <caption class="visually-hidden">
              {changes && deltas ? 'Change since the period before of ' : ''}
              {measureLabel} ({unit}) by weekday and local hour in {timeZone}, {scope.label}
            </caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                {Array.from({ length: 24 }, (_, h) => (
                  <th key={h} scope="col" class="num">
                    {hourLabel(h)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {WEEKDAYS.map((day, d) => (
                <tr key={day}>
                  <th scope="row">{day}</th>
                  {Array.from({ length: 24 }, (_, h) => {
                    const v = tableValues[d * 24 + h]!;
                    return (
                      <td key={h} class="num" data-testid="heatmap-value" data-cell={d * 24 + h} data-value={v === null ? '' : String(v)}>
                        {v === null ? '—' : v === 0 ? '0' : changes && deltas ? signed(v) : show(v)}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
}
