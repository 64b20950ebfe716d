import { describe, expect, it } from 'vitest';
import { autoBucket, matchPreset, parseTime, presetRange, readParams, resolveRange, toLocalInput, wallToEpoch, writeParams } from '../../src/lib/range.js';

const span = { first: 1_709_000_000.25, last: 1_710_040_000.5 };

describe('presets', () => {
  it('end one whole second after the data last activity, so the last request is inside [from, to)', () => {
    expect(presetRange('24h', span)).toEqual({ from: 1_710_040_001 - 86_400, to: 1_710_040_001 });
    expect(presetRange('7d', span)).toEqual({ from: 1_710_040_001 - 7 * 86_400, to: 1_710_040_001 });
    expect(presetRange('all', span)).toEqual({ from: null, to: null });
  });

  it('fall back to the clock for a file without activity', () => {
    expect(presetRange('30d', null, 2_000_000_000.7)).toEqual({ from: 2_000_000_001 - 30 * 86_400, to: 2_000_000_001 });
  });

  it('are recognised from a range, and a custom range is none of them', () => {
    expect(matchPreset(presetRange('30d', span), span)).toBe('30d');
    expect(matchPreset({ from: null, to: null }, span)).toBe('all');
    expect(matchPreset({ from: 1, to: 2 }, span)).toBeNull();
  });
});

describe('resolveRange and autoBucket', () => {
  it('open ends become the data span, as series() does it', () => {
    expect(resolveRange({ from: null, to: null }, span)).toEqual({ from: span.first, to: span.last + 1 });
    expect(resolveRange({ from: 5, to: null }, null)).toBeNull();
  });

  it('hour up to 3 days, day up to ~3 months, week up to 2 years, then month', () => {
    expect(autoBucket(0, 86_400)).toBe('hour');
    expect(autoBucket(0, 3 * 86_400)).toBe('hour');
    expect(autoBucket(0, 30 * 86_400)).toBe('day');
    expect(autoBucket(0, 200 * 86_400)).toBe('week');
    expect(autoBucket(0, 3 * 366 * 86_400)).toBe('month');
  });
});

describe('parseTime', () => {
  it('reads epoch seconds, with milliseconds recognised by size', () => {
    expect(parseTime('1710000000', 'UTC')).toBe(1_710_000_000);
    expect(parseTime('1710000000.5', 'UTC')).toBe(1_710_000_000.5);
    expect(parseTime('1710000000000', 'UTC')).toBe(1_710_000_000);
  });

  it('reads ISO instants with a zone, and dates or date-times without one in the given zone', () => {
    expect(parseTime('2024-03-09T00:00:00Z', 'Asia/Shanghai')).toBe(Date.UTC(2024, 2, 9) / 1000);
    expect(parseTime('2024-03-09T08:00:00+08:00', 'UTC')).toBe(Date.UTC(2024, 2, 9) / 1000);
    expect(parseTime('2024-03-09', 'Asia/Shanghai')).toBe(Date.UTC(2024, 2, 8, 16) / 1000);
    expect(parseTime('2024-03-09T08:30', 'Europe/Berlin')).toBe(Date.UTC(2024, 2, 9, 7, 30) / 1000);
  });

  it('returns null for what it cannot read', () => {
    expect(parseTime(null, 'UTC')).toBeNull();
    expect(parseTime('', 'UTC')).toBeNull();
    expect(parseTime('yesterday', 'UTC')).toBeNull();
    expect(parseTime('-5', 'UTC')).toBeNull();
  });
});

describe('wall-clock time in a zone', () => {
  it('converts across a DST change (Europe/Berlin, 2024-03-31 02:00 → 03:00)', () => {
    expect(wallToEpoch(Date.UTC(2024, 2, 31, 1, 30) / 1000, 'Europe/Berlin')).toBe(Date.UTC(2024, 2, 31, 0, 30) / 1000);
    expect(wallToEpoch(Date.UTC(2024, 2, 31, 3, 30) / 1000, 'Europe/Berlin')).toBe(Date.UTC(2024, 2, 31, 1, 30) / 1000);
  });

  it('round-trips through the datetime-local text', () => {
    const t = Date.UTC(2024, 6, 1, 12, 45) / 1000;
    expect(toLocalInput(t, 'America/New_York')).toBe('2024-07-01T08:45');
    expect(toLocalInput(t, 'Asia/Kathmandu')).toBe('2024-07-01T18:30');
  });
});

describe('the link', () => {
  it('reads from, to, tz, bucket and url; ignores an unknown zone or bucket', () => {
    expect(readParams('?url=/data/m.db&from=2024-03-09&to=1710100000&tz=Asia/Shanghai&bucket=week', 'UTC')).toEqual({
      from: Date.UTC(2024, 2, 8, 16) / 1000,
      to: 1_710_100_000,
      tz: 'Asia/Shanghai',
      bucket: 'week',
      url: '/data/m.db',
    });
    expect(readParams('?tz=Mars/Olympus&bucket=decade', 'UTC')).toEqual({ from: null, to: null, tz: null, bucket: null, url: null });
  });

  it('writes the view and keeps parameters it does not own', () => {
    expect(writeParams('?url=%2Fm.db&x=1', { from: 10, to: 20, tz: 'UTC', bucket: null })).toBe('?url=%2Fm.db&x=1&from=10&to=20&tz=UTC');
    expect(writeParams('?from=10&to=20&tz=UTC&bucket=day', { from: null, to: null, tz: null, bucket: null })).toBe('');
  });
});
