import type { Bucket } from '@llm-monitor/core';
import { useMemo } from 'preact/hooks';
import { formatDateTime } from '../lib/format.js';
import { type DataSpan, PRESETS, type Preset, type Range, browserTimeZone, matchPreset, resolveRange, toLocalInput, wallToEpoch } from '../lib/range.js';

interface Props {
  range: Range;
  span: DataSpan | null;
  timeZone: string;
  /** null: automatic. */
  bucket: Bucket | null;
  autoBucket: Bucket;
  /** A custom range. */
  onRange(range: Range): void;
  onPreset(preset: Preset): void;
  onTimeZone(timeZone: string): void;
  onBucket(bucket: Bucket | null): void;
}

export function Controls({ range, span, timeZone, bucket, autoBucket, onRange, onPreset, onTimeZone, onBucket }: Props) {
  const active: Preset | null = matchPreset(range, span);
  const resolved = resolveRange(range, span);
  const zones = useMemo(() => {
    const list = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    return [...new Set(['UTC', browserTimeZone(), timeZone, ...list])].sort();
  }, [timeZone]);
  const setEnd = (end: 'from' | 'to', text: string) => {
    if (!text) return;
    const [date, time = '00:00'] = text.split('T');
    const [y, mo, d] = date!.split('-').map(Number);
    const [h, mi] = time.split(':').map(Number);
    const epoch = wallToEpoch(Date.UTC(y!, mo! - 1, d!, h!, mi!) / 1000, timeZone);
    if (!Number.isFinite(epoch)) return;
    const next = { from: resolved?.from ?? null, to: resolved?.to ?? null, [end]: epoch };
    if (next.from !== null && next.to !== null && next.to <= next.from) return;
    onRange(next);
  };

  return (
    <div class="controls" data-testid="controls">
      <div class="presets" role="group" aria-label="Range">
        {PRESETS.map((p) => (
          <button
            key={p.id}
            type="button"
            class={active === p.id ? 'preset active' : 'preset'}
            aria-pressed={active === p.id}
            data-testid={`preset-${p.id}`}
            onClick={() => onPreset(p.id)}
          >
            {p.label}
          </button>
        ))}
      </div>
      <label class={active === null ? 'custom active' : 'custom'}>
        From{' '}
        <input
          type="datetime-local"
          data-testid="range-from"
          value={resolved ? toLocalInput(resolved.from, timeZone) : ''}
          onChange={(e) => setEnd('from', e.currentTarget.value)}
        />
      </label>
      <label class={active === null ? 'custom active' : 'custom'}>
        to{' '}
        <input type="datetime-local" data-testid="range-to" value={resolved ? toLocalInput(resolved.to, timeZone) : ''} onChange={(e) => setEnd('to', e.currentTarget.value)} />
      </label>
      <label>
        Time zone{' '}
        <select data-testid="time-zone" value={timeZone} onChange={(e) => onTimeZone(e.currentTarget.value)}>
          {zones.map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
      </label>
      <label>
        Bucket{' '}
        <select data-testid="bucket" value={bucket ?? 'auto'} onChange={(e) => onBucket(e.currentTarget.value === 'auto' ? null : (e.currentTarget.value as Bucket))}>
          <option value="auto">auto ({autoBucket})</option>
          <option value="hour">hour</option>
          <option value="day">day</option>
          <option value="week">week</option>
          <option value="month">month</option>
        </select>
      </label>
      <p class="muted small range-note" data-testid="range-note">
        {resolved ? `${formatDateTime(resolved.from, timeZone)} → ${formatDateTime(resolved.to, timeZone)} (${timeZone})` : 'No data.'}
        {span && ` · presets end at the file's last activity, ${formatDateTime(span.last, timeZone)}`}
      </p>
    </div>
  );
}
