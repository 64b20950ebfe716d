import type { ComponentChildren } from 'preact';
import { type ComparedFigure, type Figure, type Unit, costDecimals, formatCost, formatNumber } from '@llm-monitor/core';

/**
 * How the Insights section shows core's figures: every value in its unit, and a figure that is not known
 * as "—" with a numbered note giving core's reason (listed under its table), never as 0. Full precision
 * goes into `data-value` (empty when unknown), the reason into `data-reason`.
 */

export type Show = (value: number) => string;

/** Numbered reasons of one table: the same reason gets the same number. */
export class Notes {
  readonly reasons: string[] = [];

  mark(reason: string | undefined): number | null {
    if (reason === undefined) return null;
    const i = this.reasons.indexOf(reason);
    return i >= 0 ? i + 1 : this.reasons.push(reason);
  }
}

export function NoteList({ notes, testId }: { notes: Notes; testId?: string }) {
  if (notes.reasons.length === 0) return null;
  return (
    <ol class="notes small" {...(testId ? { 'data-testid': testId } : {})}>
      {notes.reasons.map((r, i) => (
        <li key={r} value={i + 1}>
          <span class="note-num">[{i + 1}]</span> {r}
        </li>
      ))}
    </ol>
  );
}

/** The symbol of the file's currency in headings: the chosen ISO code, or ¤ (the file stores none). */
export const currencyLabel = (currency: string | undefined) => currency ?? '¤';

/** A unit as a heading shows it, e.g. `¤/h`, `USD/M tok`, `h`. */
export function unitLabel(unit: Unit, currency: string | undefined): string {
  const c = currencyLabel(currency);
  switch (unit) {
    case 'currency':
      return c;
    case 'currency/hour':
      return `${c}/h`;
    case 'currency/day':
      return `${c}/day`;
    case 'currency/Mtok':
      return `${c}/M tok`;
    case 'USD/Mtok':
      return 'USD/M tok';
    case 'ratio':
      return '%';
    default:
      return unit;
  }
}

export const showTokens: Show = (v) => formatNumber(Math.round(v));
export const showHours: Show = (v) => `${formatNumber(v, { decimals: 1 })} h`;
export const showPercent: Show = (v) => `${formatNumber(v * 100, { decimals: 1 })}%`;

/**
 * Money in the file's currency (or USD): each value with enough decimals for three significant digits
 * below 0.1 (at least 2), so that 1,430.39 and 0.00200 both read naturally beside their deltas.
 */
export function moneyShow(currency: string | undefined, unit: 'currency' | 'USD' = 'currency'): Show {
  const code = unit === 'USD' ? 'USD' : currency;
  return (v) => formatCost(v, { decimals: costDecimals([Math.abs(v)]), ...(code ? { currency: code } : {}) });
}

/** The show function for a unit without a column of its own decimals (counts, hours, shares). */
export function showFor(unit: Unit, currency: string | undefined): Show {
  switch (unit) {
    case 'tokens':
    case 'requests':
      return showTokens;
    case 'hours':
      return showHours;
    case 'days':
      return (v) => `${formatNumber(v, { decimals: 1 })} days`;
    case 'ratio':
      return showPercent;
    case 'USD':
    case 'USD/Mtok':
      return (v) => formatCost(v, { currency: 'USD', decimals: costDecimals([Math.abs(v)]) });
    default:
      return (v) => formatCost(v, { decimals: costDecimals([Math.abs(v)]), ...(currency ? { currency } : {}) });
  }
}

const isCompared = (f: Figure): f is ComparedFigure => 'delta' in f;

/** The change since the previous period, 0 where it is only a double's rounding (a ratio of sums computed twice). */
function shownDelta(f: ComparedFigure): number | null {
  if (f.delta === null) return null;
  return Math.abs(f.delta) <= 1e-9 * Math.max(Math.abs(f.value ?? 0), Math.abs(f.previous ?? 0)) ? 0 : f.delta;
}

/** `▲ +12.30 (+8%)`, `▼ −3.00 (−50%)`, `= no change`: the change since the previous period. */
function deltaText(f: ComparedFigure, show: Show): string {
  const d = shownDelta(f)!;
  if (d === 0) return '= no change';
  const sign = d > 0 ? '+' : '−';
  const percent = f.change === null ? null : Math.abs(f.change) * 100;
  const change =
    percent === null ? '' : ` (${percent < 0.05 ? 'under 0.1' : `${sign}${formatNumber(percent, { decimals: percent < 10 ? 1 : 0 })}`}%)`;
  return `${d > 0 ? '▲' : '▼'} ${sign}${show(Math.abs(d))}${change}`;
}

/**
 * A figure: its value (or — and the note of its reason) and, when `deltas` (there is a previous period),
 * the change since it on a second line, or the note of why the previous value is unknown.
 */
export function fig(f: Figure | undefined, show: Show, notes: Notes, { testId, deltas = false }: { testId?: string; deltas?: boolean } = {}) {
  if (f === undefined) return null;
  const n = notes.mark(f.reason);
  const compared = isCompared(f) ? f : null;
  const p = deltas && compared && compared.value !== null && compared.previous === null && compared.previousReason !== undefined ? notes.mark(compared.previousReason) : null;
  return (
    <span
      class={f.value === null ? 'fig unknown' : 'fig'}
      data-value={f.value === null ? '' : String(f.value)}
      data-unit={f.unit}
      {...(f.reason === undefined ? {} : { 'data-reason': f.reason, title: f.reason })}
      {...(compared ? { 'data-previous': compared.previous === null ? '' : String(compared.previous), 'data-delta': compared.delta === null ? '' : String(compared.delta) } : {})}
      {...(testId ? { 'data-testid': testId } : {})}
    >
      <span class="fig-value">
        {f.value === null ? (
          <>
            <span aria-hidden="true">—</span>
            <span class="visually-hidden">not known</span>
          </>
        ) : (
          show(f.value)
        )}
        {n !== null && <sup class="note-ref">[{n}]</sup>}
      </span>
      {deltas && compared && (compared.value !== null || compared.previous !== null) && (
        <span class={`fig-delta${(shownDelta(compared) ?? 0) > 0 ? ' up' : (shownDelta(compared) ?? 0) < 0 ? ' down' : ''}`}>
          {compared.delta !== null ? (
            deltaText(compared, show)
          ) : compared.previous !== null ? (
            `before ${show(compared.previous)}`
          ) : (
            <>
              before —{p !== null && <sup class="note-ref">[{p}]</sup>}
            </>
          )}
        </span>
      )}
    </span>
  );
}

/** A titled part of the Insights section. */
export function Part({ id, title, badge, children }: { id: string; title: string; badge?: string; children: ComponentChildren }) {
  return (
    <section class="insight-part" aria-labelledby={`${id}-heading`} data-testid={id}>
      <h3 id={`${id}-heading`}>
        {title}
        {badge && <span class="badge warn">{badge}</span>}
      </h3>
      {children}
    </section>
  );
}

export function TableWrap({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
