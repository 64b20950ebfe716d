/**
 * The figures insights are made of. Every figure names its unit, and a figure that is not known (no
 * price set, no runtime recorded, an unusable stored value) has no value and says why: it is never a
 * silent 0. A figure that is known but leaves something out (requests no tier prices) says that too.
 */

/**
 * - `currency`: the file's own currency (prices are stored without one; the original used 元)
 * - `currency/hour`, `currency/day`, `currency/Mtok`: per hour of runtime, per day, per million tokens
 * - `USD`, `USD/Mtok`: a cloud catalog's prices
 * - `ratio`: a share from 0 to 1
 */
export type Unit = 'currency' | 'currency/hour' | 'currency/day' | 'currency/Mtok' | 'USD' | 'USD/Mtok' | 'hours' | 'days' | 'tokens' | 'requests' | 'ratio';

export interface Figure {
  /** null when the figure is not known; `reason` then says why. */
  value: number | null;
  unit: Unit;
  /** Why `value` is null; beside a value, what the value leaves out. */
  reason?: string;
}

/** A figure of a period beside the same figure of the period of the same length before it. */
export interface ComparedFigure extends Figure {
  /** The value in the previous period; null when unknown there, or when there is no previous period. */
  previous: number | null;
  /** Why `previous` is null (when the figure is unknown there; a missing period is said once, at the top). */
  previousReason?: string;
  /** value − previous; null unless both are known. */
  delta: number | null;
  /** delta ÷ |previous|; null unless both are known and previous is not 0. */
  change: number | null;
}

/**
 * A figure per cell of a grid (the hour-of-week matrix: index `weekday * 24 + hour`), all of one unit;
 * a cell is null when its value is not known.
 */
export interface Cells {
  unit: Unit;
  values: (number | null)[];
  /** Why cells are null, or what the values leave out. */
  reason?: string;
}

export interface ComparedCells extends Cells {
  previous: (number | null)[] | null;
  delta: (number | null)[] | null;
}

/** The type of `T` with every figure (and every grid of cells) beside its previous value. */
export type Compared<T> = T extends Figure
  ? ComparedFigure
  : T extends Cells
    ? ComparedCells
    : T extends readonly (infer U)[]
      ? Compared<U>[]
      : T extends object
        ? { [K in keyof T]: Compared<T[K]> }
        : T;

export const known = (value: number, unit: Unit, reason?: string): Figure => (reason === undefined ? { value, unit } : { value, unit, reason });
export const unknown = (unit: Unit, reason: string): Figure => ({ value: null, unit, reason });

/** `numerator / denominator` in `unit`, unknown when either is unknown (its reason) or the denominator is 0 (`zero`). */
export function ratio(numerator: Figure, denominator: Figure, unit: Unit, zero: string, scale = 1): Figure {
  if (numerator.value === null) return unknown(unit, numerator.reason!);
  if (denominator.value === null) return unknown(unit, denominator.reason!);
  if (denominator.value === 0) return unknown(unit, zero);
  return known((numerator.value / denominator.value) * scale, unit, numerator.reason ?? denominator.reason);
}

/**
 * The sum of figures of one unit (a total over models): unknown only when all parts are; otherwise the
 * sum of the known parts, saying which parts it leaves out and the notes of the others.
 */
export function sum(parts: readonly { label: string; figure: Figure }[], unit: Unit): Figure {
  let total = 0;
  const missing: { label: string; reason: string }[] = [];
  const notes = new Set<string>();
  for (const { label, figure } of parts) {
    if (figure.value === null) missing.push({ label, reason: figure.reason ?? 'not known' });
    else {
      total += figure.value;
      if (figure.reason !== undefined) notes.add(`${label}: ${figure.reason}`);
    }
  }
  if (parts.length > 0 && missing.length === parts.length) {
    const reasons = new Set(missing.map((m) => m.reason));
    return unknown(unit, reasons.size === 1 ? missing[0]!.reason : `not known for ${describeMissing(missing)}`);
  }
  if (missing.length > 0) notes.add(`leaves out ${describeMissing(missing)}`);
  return known(total, unit, notes.size > 0 ? [...notes].join('; ') : undefined);
}

/** `a (why), b (why)`, naming at most three and counting the rest. */
function describeMissing(missing: readonly { label: string; reason: string }[]): string {
  const named = missing.slice(0, 3).map((m) => `${m.label} (${m.reason})`);
  return missing.length > 3 ? `${named.join(', ')} and ${missing.length - 3} more` : named.join(', ');
}

const isFigure = (x: object): x is Figure => 'unit' in x && 'value' in x;
const isCells = (x: object): x is Cells => 'unit' in x && 'values' in x;

/**
 * Puts every figure of `current` beside the same figure of `previous` (the same structure: insights of
 * the same models and tiers over another window). With `previous` null (no previous period), every
 * previous value and delta is null. Other values are taken from `current`.
 */
export function compare<T>(current: T, previous: T | null): Compared<T> {
  return walk(current, previous) as Compared<T>;
}

function walk(current: unknown, previous: unknown): unknown {
  if (typeof current !== 'object' || current === null) return current;
  if (Array.isArray(current)) return current.map((item, i) => walk(item, Array.isArray(previous) ? previous[i] : null));
  const before = (typeof previous === 'object' && previous !== null ? previous : null) as Record<string, unknown> | null;
  if (isFigure(current)) {
    const p = before as Figure | null;
    const value = p?.value ?? null;
    const delta = current.value !== null && value !== null ? current.value - value : null;
    const result: ComparedFigure = { ...current, previous: value, delta, change: delta !== null && value !== 0 ? delta / Math.abs(value!) : null };
    if (p && p.value === null && p.reason !== undefined) result.previousReason = p.reason;
    return result;
  }
  if (isCells(current)) {
    const p = before as Cells | null;
    const values = p?.values ?? null;
    const delta = values && current.values.map((v, i) => (v !== null && values[i] !== null && values[i] !== undefined ? v - values[i]! : null));
    return { ...current, previous: values, delta };
  }
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(current)) result[key] = walk(value, before ? before[key] : null);
  return result;
}
