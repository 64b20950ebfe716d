import { describe, expect, it } from 'vitest';
import { bucketLabel, epochToWall, formatDateTime, isMonitorError, parseTime, wallToEpoch } from '../src/index.js';

const at = (iso: string) => Date.parse(iso) / 1000;

function rejection(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    expect(isMonitorError(error, 'INVALID_INPUT')).toBe(true);
    return error as Error;
  }
  throw new Error('expected INVALID_INPUT');
}

describe('wall-clock times', () => {
  it('parses epoch seconds, instants with an offset, and wall times in the given zone', () => {
    expect(parseTime('1717200000', 'UTC')).toBe(1_717_200_000);
    expect(parseTime(' 1717200000.25 ', 'UTC')).toBe(1_717_200_000.25);
    expect(parseTime('2024-06-01T09:30:00Z', 'Asia/Tokyo')).toBe(at('2024-06-01T09:30:00Z'));
    expect(parseTime('2024-06-01T09:30+02:00', 'UTC')).toBe(at('2024-06-01T07:30:00Z'));
    expect(parseTime('2024-06-01', 'Europe/Berlin')).toBe(at('2024-05-31T22:00:00Z'));
    expect(parseTime('2024-06-01 09:30', 'Asia/Kathmandu')).toBe(at('2024-06-01T03:45:00Z'));
  });

  it('refuses milliseconds, impossible dates and other text, naming the value', () => {
    expect(rejection(() => parseTime('1717200000000', 'UTC')).message).toMatch(/milliseconds.*1717200000/);
    expect(rejection(() => parseTime('2024-02-30', 'UTC')).message).toContain('"2024-02-30"');
    expect(rejection(() => parseTime('yesterday', 'UTC')).message).toContain('"yesterday"');
    expect(rejection(() => parseTime('2024-06-01', 'Mars/Olympus')).message).toContain('Mars/Olympus');
  });

  it('converts wall-clock time and epoch seconds both ways, across DST', () => {
    // 2024-03-31 02:30 does not exist in Berlin (clocks jump 02:00 → 03:00); 03:30 CEST is 01:30Z
    const wall = (iso: string) => Date.parse(`${iso}Z`) / 1000;
    expect(wallToEpoch(wall('2024-03-31T03:30:00'), 'Europe/Berlin')).toBe(at('2024-03-31T01:30:00Z'));
    expect(epochToWall(at('2024-07-01T12:00:00Z'), 'America/New_York')).toBe(wall('2024-07-01T08:00:00'));
    expect(formatDateTime(at('2024-06-01T07:30:05Z'), 'Europe/Berlin', 'second')).toBe('2024-06-01 09:30:05');
    expect(formatDateTime(at('2024-06-01T07:30:05Z'), 'Europe/Berlin')).toBe('2024-06-01 09:30');
    expect(bucketLabel(at('2024-05-31T22:00:00Z'), 'day', 'Europe/Berlin')).toBe('2024-06-01 Sat');
    expect(bucketLabel(at('2024-05-26T22:00:00Z'), 'week', 'Europe/Berlin')).toBe('week of 2024-05-27');
  });
});
