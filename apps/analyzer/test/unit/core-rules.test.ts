import { MonitorError } from '@llm-monitor/core';
import { describe, expect, it } from 'vitest';
import { costDecimals, csvLine, formatCost, formatNumber, parseTime, pricingProblems, wallToEpoch, windowProblems } from '../../src/lib/core-rules.js';
import { toUserError, tooLarge } from '../../src/worker/user-error.js';

/** What the analyzer relies on from the shared rules (core's, CORE-API.md §2). */

describe('numbers', () => {
  it('one decimals count per column: enough for 3 significant digits of its smallest value, at least 2', () => {
    expect(costDecimals([61.37, 0.0731])).toBe(4);
    expect([61.37, 0.0731].map((v) => formatCost(v, { decimals: costDecimals([61.37, 0.0731]) }))).toEqual(['61.3700', '0.0731']);
    expect(costDecimals([1234.5, 0])).toBe(2);
    expect(formatNumber(1_234_567)).toBe('1,234,567');
    expect(formatCost(831.88, { currency: 'USD' })).toMatch(/^USD\s?831\.88$/);
  });
});

describe('time', () => {
  it('reads epoch seconds, ISO instants and wall times in a zone; refuses milliseconds and words', () => {
    expect(parseTime('1710000000.5', 'UTC')).toBe(1_710_000_000.5);
    expect(parseTime('2024-03-09T08:00:00+08:00', 'UTC')).toBe(Date.UTC(2024, 2, 9) / 1000);
    expect(parseTime('2024-03-09', 'Asia/Shanghai')).toBe(Date.UTC(2024, 2, 8, 16) / 1000);
    expect(() => parseTime('1710000000000', 'UTC')).toThrow(/milliseconds/);
    expect(() => parseTime('yesterday', 'UTC')).toThrow(MonitorError);
  });

  it('converts wall-clock time across a DST change (Europe/Berlin, 2024-03-31 02:00 → 03:00)', () => {
    expect(wallToEpoch(Date.UTC(2024, 2, 31, 1, 30) / 1000, 'Europe/Berlin')).toBe(Date.UTC(2024, 2, 31, 0, 30) / 1000);
    expect(wallToEpoch(Date.UTC(2024, 2, 31, 3, 30) / 1000, 'Europe/Berlin')).toBe(Date.UTC(2024, 2, 31, 1, 30) / 1000);
  });
});

describe('CSV', () => {
  it('quotes what needs quoting and keeps formulas from running in a spreadsheet', () => {
    expect(csvLine([1, 'plain', 1.5])).toBe('1,plain,1.5\r\n');
    expect(csvLine(['a,b', 'line\nbreak'])).toBe('"a,b","line\nbreak"\r\n');
    expect(csvLine(['=HYPERLINK("x")', '-1', null])).toBe('"\'=HYPERLINK(""x"")",\'-1,\r\n');
  });
});

describe('pricing validation', () => {
  it('puts every problem at its field', () => {
    const problems = pricingProblems({ hourlyPrice: -1, tierPricing: [{ tierIndex: 1, startTokens: 0, endTokens: -1, inputPricePerMillion: 'x', outputPricePerMillion: 1 }] });
    expect(problems).toEqual([
      { path: ['hourlyPrice'], message: 'must be 0 or more' },
      { path: ['tierPricing', 0, 'inputPricePerMillion'], message: 'must be a number' },
    ]);
    expect(pricingProblems({ useTierPricing: false, hourlyPrice: 2 })).toEqual([]);
  });

  it('warns of overlapping and never-matching 2-D windows', () => {
    const w = (tierIndex: number, minIn: number, maxIn: number) => ({
      tierIndex, minInputTokens: minIn, maxInputTokens: maxIn, minOutputTokens: 0, maxOutputTokens: -1, inputPrice: 1, outputPrice: 1, supportCache: false, cacheWritePrice: 0, cacheReadPrice: 0,
    });
    expect(windowProblems([w(1, 0, 32_000), w(2, 32_000, -1)])).toEqual([]);
    expect(windowProblems([w(1, 0, 32_000), w(2, 16_000, -1)]).map((p) => p.kind)).toEqual(['overlap']);
    expect(windowProblems([w(1, 0, -1), w(2, 500, 100)]).map((p) => p.kind)).toEqual(['gap']);
  });
});

describe('errors in words', () => {
  it('tells a file that is not SQLite from a SQLite file with a damaged page', () => {
    const error = new MonitorError('NOT_A_DATABASE', 'Not a SQLite database, or a corrupt one: file is not a database.');
    expect(toUserError(error, 'other').kind).toBe('not-a-database');
    expect(toUserError(error, 'sqlite').kind).toBe('corrupt');
    expect(toUserError(new MonitorError('NOT_A_DATABASE', 'database disk image is malformed'), 'unknown').kind).toBe('corrupt');
  });

  it('says the file belongs to another application, names the model of a refused what-if setting, states the size limit', () => {
    expect(toUserError(new MonitorError('NOT_A_MONITOR_DB', 'no monitor tables')).title).toMatch(/not a monitoring database/);
    expect(toUserError(new MonitorError('INVALID_INPUT', 'Invalid tier', { model: 'qwen' }))).toMatchObject({ kind: 'invalid-input', model: 'qwen' });
    expect(tooLarge(2 * 1024 ** 3).message).toMatch(/2\.0 GiB.*up to 1\.0 GiB/);
  });
});
