import { memo } from 'preact/compat';
import { type Bucket, formatDateTime, localTimeZone, wallToEpoch } from '@llm-monitor/core';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { type DataSpan, PRESETS, type Preset, type Range, matchPreset, resolveRange, snapDown, snapUp, toLocalInput } from '../lib/range.js';

interface Props {
  range: Range;
  span: DataSpan | null;
  timeZone: string;
  /** null: automatic. */
  bucket: Bucket | null;
  autoBucket: Bucket;
  currency: string | null;
  /** A custom range. */
  onRange(range: Range): void;
  onPreset(preset: Preset): void;
  onTimeZone(timeZone: string): void;
  onBucket(bucket: Bucket | null): void;
  onCurrency(currency: string | null): void;
}

const COMMON_CURRENCIES = ['USD', 'EUR', 'CNY', 'JPY', 'GBP', 'KRW', 'INR', 'CAD', 'AUD', 'CHF', 'HKD', 'SGD', 'TWD'];

/** `2024-03-09T08:00` (a datetime-local value) in the zone, or null when the text is not one. */
function readLocal(text: string, timeZone: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(text);
  if (!match) return null;
  const [, y, mo, d, h, mi] = match.map(Number);
  const epoch = wallToEpoch(Date.UTC(y!, mo! - 1, d!, h!, mi!) / 1000, timeZone);
  return Number.isFinite(epoch) ? epoch : null;
}

export const Controls = memo(function Controls({ range, span, timeZone, bucket, autoBucket, currency, onRange, onPreset, onTimeZone, onBucket, onCurrency }: Props) {
  const active: Preset | null = matchPreset(range, span);
  const resolved = resolveRange(range, span);
  const zones = useMemo(() => {
    const list = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    return [...new Set(['UTC', localTimeZone(), timeZone, ...list])].sort();
  }, [timeZone]);
  const currencies = useMemo(() => {
    const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('currency') : [];
    return [...new Set([...COMMON_CURRENCIES, ...(currency ? [currency] : []), ...all])];
  }, [currency]);

  // what the inputs show: the range, or what the user typed that was refused (kept, marked, explained)
  const shown = { from: resolved ? toLocalInput(resolved.from, timeZone) : '', to: resolved ? toLocalInput(resolved.to, timeZone) : '' };
  const [typed, setTyped] = useState<{ from: string; to: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setTyped(null);
    setError(null);
  }, [range.from, range.to, timeZone]);

  const setEnd = (end: 'from' | 'to', text: string) => {
    const texts = { ...(typed ?? shown), [end]: text };
    setTyped(texts);
    const epoch = readLocal(text, timeZone);
    if (epoch === null) {
      setError(`Enter a complete date and time for "${end}".`);
      return;
    }
    // on the 15-minute grid, widening the range to hold what was asked for
    const next = { from: resolved?.from ?? null, to: resolved?.to ?? null, [end]: end === 'from' ? snapDown(epoch) : snapUp(epoch) };
    if (next.from !== null && next.to !== null && next.to <= next.from) {
      setError(`"to" (${texts.to.replace('T', ' ')}) must be after "from" (${texts.from.replace('T', ' ')}); the range was not changed.`);
      return;
    }
    setError(null);
    onRange(next);
  };
  const values = typed ?? shown;
  const invalid = error !== null;

  return (
    <div class="controls" data-testid="controls">
      <div class="presets" role="group" aria-label="Range">
        {PRESETS.map((p) => (
          <button key={p.id} type="button" class="preset" aria-pressed={active === p.id} data-testid={`preset-${p.id}`} onClick={() => onPreset(p.id)}>
            {p.label}
          </button>
        ))}
      </div>
      {(['from', 'to'] as const).map((end) => (
        <label key={end} class={active === null ? 'custom active' : 'custom'}>
          {end === 'from' ? 'From' : 'To'}
          <input
            type="datetime-local"
            step={900}
            data-testid={`range-${end}`}
            value={values[end]}
            aria-invalid={invalid && typed?.[end] !== shown[end]}
            aria-describedby={invalid ? 'range-error' : undefined}
            onChange={(e) => setEnd(end, e.currentTarget.value)}
          />
        </label>
      ))}
      <label>
        Time zone
        <select data-testid="time-zone" value={timeZone} onChange={(e) => onTimeZone(e.currentTarget.value)}>
          {zones.map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
      </label>
      <label>
        Bucket
        <select data-testid="bucket-select" value={bucket ?? 'auto'} onChange={(e) => onBucket(e.currentTarget.value === 'auto' ? null : (e.currentTarget.value as Bucket))}>
          <option value="auto">auto ({autoBucket})</option>
          <option value="hour">hour</option>
          <option value="day">day</option>
          <option value="week">week</option>
          <option value="month">month</option>
        </select>
      </label>
      <label>
        Currency
        <select data-testid="currency" value={currency ?? ''} onChange={(e) => onCurrency(e.currentTarget.value || null)}>
          <option value="">none (the file's own)</option>
          {currencies.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </label>
      {error && (
        <p class="range-error" id="range-error" role="alert" data-testid="range-error">
          {error}
        </p>
      )}
      <p class="muted small range-note" data-testid="range-note">
        {resolved ? `${formatDateTime(resolved.from, timeZone)} → ${formatDateTime(resolved.to, timeZone)} (${timeZone})` : 'No data.'}
        {span && ` · presets end at the file's last activity, ${formatDateTime(span.last, timeZone)}`}
      </p>
    </div>
  );
});
