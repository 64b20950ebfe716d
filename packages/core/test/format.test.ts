import { describe, expect, it } from 'vitest';
import { checkCurrency, costDecimals, csvField, csvLine, formatCost, formatDuration, formatNumber, isMonitorError } from '../src/index.js';

describe('number formats', () => {
  it('shows integers with separators and other numbers to three significant digits or cents', () => {
    expect(formatNumber(12_345_678)).toBe('12,345,678');
    expect(formatNumber(61.3749)).toBe('61.37');
    expect(formatNumber(0.073149)).toBe('0.0731');
    expect(formatNumber(0.000123456)).toBe('0.000123');
    expect(formatNumber(1234.5, { decimals: 0 })).toBe('1,235');
    expect(formatNumber(Number.NaN)).toBe('NaN');
  });

  it('shows costs in cents from 1 up and a column of costs with one decimals count', () => {
    expect(formatCost(15_581.6338)).toBe('15,581.63');
    expect(formatCost(12.3456)).toBe('12.35');
    expect(formatCost(0)).toBe('0.00');
    expect(formatCost(0.0731)).toBe('0.0731');
    const column = [61.37, 0.0731, 0];
    const decimals = costDecimals(column);
    expect(column.map((x) => formatCost(x, { decimals }))).toEqual(['61.3700', '0.0731', '0.0000']);
    expect(costDecimals([1e-12])).toBe(8);
  });

  it('prints a currency by its symbol and refuses codes that are not currencies', () => {
    expect(formatCost(1234.5, { currency: 'USD' })).toBe('$1,234.50');
    expect(formatCost(0.5, { currency: 'cny' })).toBe('¥0.50');
    for (const bad of ['dollars', 'XYZ1', '', 42]) {
      let error: unknown;
      try {
        checkCurrency(bad);
      } catch (e) {
        error = e;
      }
      expect(isMonitorError(error, 'INVALID_INPUT')).toBe(true);
      expect((error as Error).message).toContain(JSON.stringify(bad));
    }
  });

  it('shows durations to their two largest units', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(5 * 3600 + 12 * 60 + 3)).toBe('5 h 12 min');
    expect(formatDuration(3 * 86_400 + 4 * 3600 + 59)).toBe('3 d 4 h');
  });
});

describe('CSV', () => {
  it('quotes what RFC 4180 requires and defuses spreadsheet formulas in text', () => {
    expect(csvLine(['a,b', 'say "hi"', 'x\ny', 1.5, null, true])).toBe('"a,b","say ""hi""","x\ny",1.5,,true\r\n');
    expect(csvField('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    for (const lead of ['+', '-', '@']) expect(csvField(`${lead}cmd`)).toBe(`'${lead}cmd`);
    expect(csvField(-5)).toBe('-5');
  });
});
