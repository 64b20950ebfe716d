import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMonitorError } from '../src/index.js';
import { MAX_EPOCH_SECONDS, checkRequest, checkTier } from '../src/monitor/validate.js';

const time = fc.double({ min: 0, max: MAX_EPOCH_SECONDS, noNaN: true });
const tokens = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const price = fc.double({ min: 0, max: 1e6, noNaN: true });

/** Any value that is not a valid token count. */
const badTokens = fc.oneof(
  fc.integer({ max: -1 }),
  fc.double({ noInteger: true }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** 53, 1e300),
  fc.string(),
  fc.constant(null),
  fc.boolean(),
);

function rejects(fn: () => unknown, code = 'INVALID_INPUT'): string {
  try {
    fn();
  } catch (error) {
    expect(isMonitorError(error, code as never)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected a rejection');
}

describe('request validation', () => {
  it('accepts every valid request in all three forms, unchanged', () => {
    fc.assert(
      fc.property(time, tokens, tokens, tokens, tokens, (t, i, o, c, p) => {
        expect(checkRequest('m', [t, i, o])).toEqual({ timestamp: t, inputTokens: i, outputTokens: o, cacheN: 0, promptN: 0 });
        expect(checkRequest('m', [t, i, o, c, p])).toEqual({ timestamp: t, inputTokens: i, outputTokens: o, cacheN: c, promptN: p });
        expect(checkRequest('m', { timestamp: t, inputTokens: i, outputTokens: o, cacheN: c, promptN: p })).toEqual({
          timestamp: t,
          inputTokens: i,
          outputTokens: o,
          cacheN: c,
          promptN: p,
        });
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects any bad token count, naming the model, the field and the value', () => {
    fc.assert(
      fc.property(time, badTokens, fc.nat({ max: 3 }), (t, bad, position) => {
        const row: unknown[] = [t, 1, 1, 0, 0];
        row[position + 1] = bad;
        const message = rejects(() => checkRequest('my-model', row));
        expect(message).toContain('"my-model"');
        expect(message).toContain(['inputTokens', 'outputTokens', 'cacheN', 'promptN'][position]!);
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects bad timestamps and hints at milliseconds above 1e11', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ max: -Number.MIN_VALUE }), fc.constant(Number.NaN), fc.double({ min: MAX_EPOCH_SECONDS * 1.0000001 })), (t) => {
        const message = rejects(() => checkRequest('m', [t, 1, 1]));
        if (Number.isFinite(t) && t > MAX_EPOCH_SECONDS) expect(message).toContain('milliseconds');
      }),
      { numRuns: 2000 },
    );
    expect(rejects(() => checkRequest('m', [Date.now(), 1, 1]))).toMatch(/looks like milliseconds: pass Date\.now\(\) \/ 1000/);
  });

  it('rejects arrays of the wrong length and non-objects', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10 }), { maxLength: 9 }), (row) => {
        if (row.length === 3 || row.length === 5) return;
        expect(rejects(() => checkRequest('m', row))).toContain(`${row.length} elements`);
      }),
    );
    for (const value of [null, undefined, 42, 'x']) rejects(() => checkRequest('m', value));
  });
});

describe('tier validation', () => {
  it('accepts ordered ranges and -1 as unbounded', () => {
    fc.assert(
      fc.property(fc.nat(), tokens, tokens, price, price, fc.boolean(), (index, a, b, inP, outP, unbounded) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        const tier = checkTier('m', [index, start, unbounded ? -1 : end, inP, outP]);
        expect(tier).toEqual({
          tierIndex: index,
          startTokens: start,
          endTokens: unbounded ? -1 : end,
          inputPricePerMillion: inP,
          outputPricePerMillion: outP,
          supportCache: undefined,
          cacheHitPricePerMillion: undefined,
        });
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects end below start, negative prices and wrong lengths', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 1, max: 1e9 }), (start, gap) => {
        expect(rejects(() => checkTier('m', [1, start + gap, start, 1, 1]))).toContain('is below startTokens');
      }),
    );
    expect(rejects(() => checkTier('m', [1, 0, 10, -1, 1]))).toContain('inputPricePerMillion of tier 1');
    expect(rejects(() => checkTier('m', [1, 0, 10, 1, 1, 'yes', 0]))).toContain('supportCache of tier 1');
    expect(rejects(() => checkTier('m', [1, 0, 10, 1, 1, true]))).toContain('6 elements');
  });
});
