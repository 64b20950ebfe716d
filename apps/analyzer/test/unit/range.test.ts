import { describe, expect, it } from 'vitest';
import { autoBucket, matchPreset, presetRange, readParams, resolveRange, snapRange, toLocalInput, writeParams } from '../../src/lib/range.js';

const span = { first: 1_709_000_000.25, last: 1_710_040_000.5 };
const GRID_END = 1_710_040_500; // the first 15-minute boundary after span.last

describe('presets', () => {
  it('end at the first 15-minute boundary after the last activity, so the last request is inside [from, to)', () => {
    expect(GRID_END % 900).toBe(0);
    expect(presetRange('24h', span)).toEqual({ from: GRID_END - 86_400, to: GRID_END });
    expect(presetRange('7d', span)).toEqual({ from: GRID_END - 7 * 86_400, to: GRID_END });
    expect(presetRange('all', span)).toEqual({ from: null, to: null });
  });

  it('fall back to the clock for a file without activity', () => {
    expect(presetRange('30d', null, 2_000_000_000.7)).toEqual({ from: 2_000_000_700 - 30 * 86_400, to: 2_000_000_700 });
  });

  it('are recognised from a range, and a custom range is none of them', () => {
    expect(matchPreset(presetRange('30d', span), span)).toBe('30d');
    expect(matchPreset({ from: null, to: null }, span)).toBe('all');
    expect(matchPreset({ from: 900, to: 1800 }, span)).toBeNull();
  });
});

describe('ranges', () => {
  it('snap to the 15-minute grid, widening to hold what was asked for', () => {
    expect(snapRange({ from: 1_710_000_100, to: 1_710_000_100 })).toEqual({ from: 1_710_000_000, to: 1_710_000_900 });
    expect(snapRange({ from: 900, to: null })).toEqual({ from: 900, to: null });
  });

  it('open ends become the data span, as series() does it', () => {
    expect(resolveRange({ from: null, to: null }, span)).toEqual({ from: span.first, to: span.last + 1 });
    expect(resolveRange({ from: 5, to: null }, null)).toBeNull();
  });

  it('pick a bucket: hour up to 3 days, day up to ~3 months, week up to 2 years, then month', () => {
    expect(autoBucket(0, 86_400)).toBe('hour');
    expect(autoBucket(0, 3 * 86_400)).toBe('hour');
    expect(autoBucket(0, 30 * 86_400)).toBe('day');
    expect(autoBucket(0, 200 * 86_400)).toBe('week');
    expect(autoBucket(0, 3 * 366 * 86_400)).toBe('month');
  });

  it('show in datetime-local inputs as wall-clock time of the zone', () => {
    const t = Date.UTC(2024, 6, 1, 12, 45) / 1000;
    expect(toLocalInput(t, 'America/New_York')).toBe('2024-07-01T08:45');
    expect(toLocalInput(t, 'Asia/Kathmandu')).toBe('2024-07-01T18:30');
  });
});

describe('the link', () => {
  it('reads from, to (snapped to the grid), tz, bucket, currency, pricing and url', () => {
    const pricing = { 'qwen 3': { hourlyPrice: 2.5 } };
    const search = `?url=/data/m.db&from=2024-03-09&to=1710100000&tz=Asia/Shanghai&bucket=week&currency=CNY&pricing=${encodeURIComponent(JSON.stringify(pricing))}`;
    expect(readParams(search, 'UTC')).toEqual({
      from: Date.UTC(2024, 2, 8, 16) / 1000,
      to: 1_710_100_800,
      tz: 'Asia/Shanghai',
      bucket: 'week',
      currency: 'CNY',
      pricing,
      url: '/data/m.db',
      problems: [],
    });
  });

  it('leaves out what it cannot use, and says why', () => {
    const read = readParams('?tz=Mars/Olympus&bucket=decade&currency=dollars&from=yesterday&to=1710000000000&pricing={oops', 'UTC');
    expect(read).toMatchObject({ from: null, to: null, tz: null, bucket: null, currency: null, pricing: null, url: null });
    expect(read.problems).toHaveLength(6);
    expect(read.problems.join('\n')).toMatch(/tz=Mars\/Olympus was ignored: .*IANA/);
    expect(read.problems.join('\n')).toMatch(/to=1710000000000 was ignored: .*milliseconds/);
    expect(read.problems.join('\n')).toMatch(/pricing=\{oops was ignored: it is not JSON/);
    expect(readParams('?from=2000&to=1000', 'UTC').problems).toEqual(['The link\'s "to" is not after its "from", so its range was ignored.']);
  });

  it('writes the view, URI-encoded, and keeps parameters it does not own', () => {
    const view = { from: 900, to: 1800, tz: 'UTC', bucket: null, currency: 'EUR', pricing: { 'a b': { hourlyPrice: 1 } } };
    const search = writeParams('?url=%2Fm.db&x=1', view);
    expect(search).toBe(`?url=%2Fm.db&x=1&from=900&to=1800&tz=UTC&currency=EUR&pricing=${encodeURIComponent('{"a b":{"hourlyPrice":1}}')}`);
    expect(readParams(search, 'UTC')).toMatchObject({ ...view, url: '/m.db' });
    expect(writeParams('?from=900&to=1800&tz=UTC&bucket=day&pricing=%7B%7D', { from: null, to: null, tz: null, bucket: null, currency: null, pricing: null })).toBe('');
  });
});
