import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketBoundaries, isMonitorError, zoneOffset } from '../src/index.js';

const at = (iso: string) => Date.parse(iso) / 1000;
const hours = (bounds: number[]) => bounds.slice(1).map((b, i) => (b - bounds[i]!) / 3600);

describe('time-zone buckets', () => {
  it('knows offsets, including +05:45 and +05:30', () => {
    expect(zoneOffset('Asia/Kathmandu', at('2024-06-01T00:00:00Z'))).toBe(5 * 3600 + 45 * 60);
    expect(zoneOffset('Asia/Kolkata', at('2024-06-01T00:00:00Z'))).toBe(5.5 * 3600);
    expect(zoneOffset('Europe/Berlin', at('2024-01-15T00:00:00Z'))).toBe(3600);
    expect(zoneOffset('Europe/Berlin', at('2024-07-15T00:00:00Z'))).toBe(7200);
  });

  it('gives the spring-forward day 23 hours and the fall-back day 25 in Europe/Berlin', () => {
    const days = bucketBoundaries(at('2024-03-30T12:00:00Z'), at('2024-04-01T12:00:00Z'), 'day', 'Europe/Berlin');
    expect(days.map((b) => new Date(b * 1000).toISOString())).toEqual([
      '2024-03-29T23:00:00.000Z', // Sat 30 March 00:00 CET
      '2024-03-30T23:00:00.000Z', // Sun 31 March 00:00 CET
      '2024-03-31T22:00:00.000Z', // Mon 1 April 00:00 CEST
      '2024-04-01T22:00:00.000Z',
    ]);
    expect(hours(days)).toEqual([24, 23, 24]);
    const autumn = bucketBoundaries(at('2024-10-27T00:00:00Z'), at('2024-10-27T12:00:00Z'), 'day', 'Europe/Berlin');
    expect(hours(autumn)).toEqual([25]);
    expect(autumn[0]).toBe(at('2024-10-26T22:00:00Z'));
  });

  it('has 23 and 25 hourly buckets on the DST days of America/New_York', () => {
    const spring = bucketBoundaries(at('2024-03-10T05:00:00Z'), at('2024-03-11T04:00:00Z'), 'hour', 'America/New_York');
    expect(spring.length - 1).toBe(23);
    expect(new Set(hours(spring))).toEqual(new Set([1]));
    const fall = bucketBoundaries(at('2024-11-03T04:00:00Z'), at('2024-11-04T05:00:00Z'), 'hour', 'America/New_York');
    expect(fall.length - 1).toBe(25);
    const days = bucketBoundaries(at('2024-11-03T04:00:00Z'), at('2024-11-03T05:00:00Z'), 'day', 'America/New_York');
    expect(hours(days)).toEqual([25]);
  });

  it('aligns hours and days to a +05:45 zone', () => {
    const hoursKtm = bucketBoundaries(at('2024-06-01T00:00:00Z'), at('2024-06-01T03:00:00Z'), 'hour', 'Asia/Kathmandu');
    expect(hoursKtm.map((b) => new Date(b * 1000).toISOString().slice(11, 16))).toEqual(['23:15', '00:15', '01:15', '02:15', '03:15']);
    const dayKtm = bucketBoundaries(at('2024-06-01T00:00:00Z'), at('2024-06-01T01:00:00Z'), 'day', 'Asia/Kathmandu');
    expect(dayKtm).toEqual([at('2024-05-31T18:15:00Z'), at('2024-06-01T18:15:00Z')]);
  });

  it('starts weeks on Monday and months on the first, in the zone', () => {
    const weeks = bucketBoundaries(at('2024-05-01T00:00:00Z'), at('2024-05-20T00:00:00Z'), 'week', 'UTC');
    expect(weeks.map((b) => new Date(b * 1000).toISOString().slice(0, 10))).toEqual(['2024-04-29', '2024-05-06', '2024-05-13', '2024-05-20']);
    for (const b of weeks) expect(new Date(b * 1000).getUTCDay()).toBe(1);
    const months = bucketBoundaries(at('2024-01-15T00:00:00Z'), at('2024-04-02T00:00:00Z'), 'month', 'Asia/Shanghai');
    expect(months.map((b) => new Date((b + 8 * 3600) * 1000).toISOString().slice(0, 10))).toEqual([
      '2024-01-01',
      '2024-02-01',
      '2024-03-01',
      '2024-04-01',
      '2024-05-01',
    ]);
  });

  it('always covers the range with increasing boundaries on the 15-minute grid', () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'America/St_Johns', 'Pacific/Chatham'];
    fc.assert(
      fc.property(
        fc.integer({ min: 1_600_000_000, max: 1_800_000_000 }),
        fc.integer({ min: 1, max: 40 * 86_400 }),
        fc.constantFrom('hour', 'day', 'week', 'month' as const),
        fc.constantFrom(...zones),
        (from, length, bucket, zone) => {
          const bounds = bucketBoundaries(from, from + length, bucket, zone);
          expect(bounds[0]!).toBeLessThanOrEqual(from);
          expect(bounds[bounds.length - 1]!).toBeGreaterThanOrEqual(from + length);
          expect(bounds[1]!).toBeGreaterThan(from);
          for (let i = 1; i < bounds.length; i++) expect(bounds[i]!).toBeGreaterThan(bounds[i - 1]!);
          for (const b of bounds) expect(b % 900).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  }, 60_000);

  it('rejects an unknown zone with INVALID_INPUT', () => {
    let error: unknown;
    try {
      bucketBoundaries(0, 3600, 'hour', 'Mars/Olympus_Mons');
    } catch (e) {
      error = e;
    }
    expect(isMonitorError(error, 'INVALID_INPUT')).toBe(true);
  });
});
