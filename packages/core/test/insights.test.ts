import { describe, expect, it } from 'vitest';
import { type Figure, compare, insightReport, insightScan, insightsOf, isMonitorError } from '../src/index.js';
import { known, sum, unknown } from '../src/insights/figure.js';
import { aggregation, at, flatTier, model } from './insights-data.js';

const cell = (weekday: number, hour: number) => weekday * 24 + hour;
const nonZero = (values: (number | null)[]) => Object.fromEntries(values.flatMap((v, i) => (v === 0 ? [] : [[i, v]])));
const thrown = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
};

describe('figures', () => {
  it('sums what is known, says what a sum leaves out, and is unknown only when every part is', () => {
    const parts = [
      { label: 'a', figure: known(2, 'currency') },
      { label: 'b', figure: unknown('currency', 'no hourly price set') },
      { label: 'c', figure: known(3, 'currency', 'leaves out 1 requests no tier prices') },
    ];
    expect(sum(parts, 'currency')).toEqual({
      value: 5,
      unit: 'currency',
      reason: 'c: leaves out 1 requests no tier prices; leaves out b (no hourly price set)',
    });
    expect(sum([parts[1]!, { label: 'd', figure: unknown('currency', 'no hourly price set') }], 'currency')).toEqual(unknown('currency', 'no hourly price set'));
    expect(sum([], 'currency')).toEqual(known(0, 'currency'));
  });

  it('puts every figure beside the previous one: delta and change only where both are known', () => {
    const now = { a: known(12, 'currency'), b: unknown('hours', 'no runtime'), c: known(5, 'tokens'), cells: { unit: 'requests' as const, values: [1, null, 3] }, name: 'x' };
    const before = { a: known(8, 'currency'), b: known(2, 'hours'), c: unknown('tokens', 'not recorded'), cells: { unit: 'requests' as const, values: [0, 1, null] }, name: 'y' };
    const compared = compare(now, before);
    expect(compared.a).toEqual({ value: 12, unit: 'currency', previous: 8, delta: 4, change: 0.5 });
    expect(compared.b).toEqual({ value: null, unit: 'hours', reason: 'no runtime', previous: 2, delta: null, change: null });
    expect(compared.c).toEqual({ value: 5, unit: 'tokens', previous: null, previousReason: 'not recorded', delta: null, change: null });
    expect(compared.cells).toEqual({ unit: 'requests', values: [1, null, 3], previous: [0, 1, null], delta: [1, null, null] });
    expect(compared.name).toBe('x');
    expect(compare(known(0, 'currency'), known(0, 'currency'))).toMatchObject({ delta: 0, change: null });
    expect(compare(now, null).a).toEqual({ value: 12, unit: 'currency', previous: null, delta: null, change: null });
  });
});

describe('insightsOf on a hand-made aggregation', () => {
  const gpu = (hourlyPriceUsable: boolean) => ({
    ...model('gpu', { useTierPricing: false, hourlyPrice: 2, tierPricing: [] }, [{ at: at('2024-10-27T00:10:00Z'), tier: Number.NaN, requests: 1, inputTokens: 10 }], [
      // Sunday 01:30 CEST to 03:30 CET in Berlin: the hour 02:00–03:00 happens twice
      { start: at('2024-10-26T23:30:00Z'), end: at('2024-10-27T02:30:00Z'), open: false },
    ]),
    hourlyPriceUsable,
  });

  it('puts both 02:00 hours of the night clocks fall back in one cell, and knows nothing unknown', () => {
    const insights = insightsOf(aggregation([gpu(true)], at('2024-10-21T00:00:00Z'), at('2024-10-28T00:00:00Z')), { timeZone: 'Europe/Berlin' });
    const [m] = insights.models;
    expect(nonZero(m!.hourOfWeek.runtimeHours.values)).toEqual({ [cell(6, 1)]: 0.5, [cell(6, 2)]: 2, [cell(6, 3)]: 0.5 });
    expect(m!.hourOfWeek.requests.values[cell(6, 2)]).toBe(1); // 00:10 UTC is 02:10 CEST
    expect(m!.billing.actualCost).toEqual(known(6, 'currency'));
    // no tier prices set: the per-token alternative is unknown, and so is the switch
    expect(m!.billing.tierCost).toEqual(unknown('currency', 'no tier prices set (every tier is priced 0)'));
    expect(m!.billing.switchSaving.value).toBeNull();
    expect(m!.billing.cheaperMethod).toBeNull();
    expect(insights.total.billing.possibleSaving).toEqual(known(0, 'currency'));
  });

  it('leaves an unusable hourly price out of every figure it enters, with the reason, and the totals say so', () => {
    const api = model('api', flatTier(1, 2), [{ at: at('2024-10-27T00:10:00Z'), tier: 1, requests: 2, inputTokens: 1_000_000, outputTokens: 500_000 }]);
    const insights = insightsOf(aggregation([gpu(false), api], at('2024-10-21T00:00:00Z'), at('2024-10-28T00:00:00Z')), { timeZone: 'Europe/Berlin' });
    const [m] = insights.models;
    for (const figure of [m!.billing.actualCost, m!.billing.hourlyCost, m!.idle.idleCost] as Figure[])
      expect(figure).toEqual(unknown('currency', 'the stored hourly price cannot be used (see the model’s problems)'));
    expect(m!.hourOfWeek.cost.values[cell(6, 2)]).toBeNull();
    expect(insights.total.billing.actualCost.value).toBe(2);
    expect(insights.total.billing.actualCost.reason).toBe('leaves out gpu (the stored hourly price cannot be used (see the model’s problems))');
    expect(insights.total.hourOfWeek.cost.values[cell(6, 2)]).toBe(2);
  });

  it('an hourly model whose price was never set (0, the default) has an unknown cost, not a free one', () => {
    const unset = model('gpu', { useTierPricing: false, hourlyPrice: 0, tierPricing: [] }, [], [{ start: at('2024-10-21T10:00:00Z'), end: at('2024-10-21T12:00:00Z'), open: false }]);
    const [m] = insightsOf(aggregation([unset], at('2024-10-21T00:00:00Z'), at('2024-10-28T00:00:00Z')), { timeZone: 'UTC' }).models;
    for (const figure of [m!.billing.actualCost, m!.billing.hourlyCost, m!.idle.idleCost]) expect(figure).toEqual(unknown('currency', 'no hourly price set'));
    expect(m!.idle.idleHours).toEqual(known(2, 'hours'));
    expect(m!.hourOfWeek.cost.values[cell(0, 10)]).toBeNull();
    expect(m!.hourOfWeek.cost.values[cell(0, 9)]).toBe(0);
    expect(m!.hourOfWeek.cost.reason).toBe('no hourly price set');
  });

  it('refuses a bad zone, an aggregation a summary made, and unknown models, by name', () => {
    const a = aggregation([gpu(true)]);
    expect(isMonitorError(thrown(() => insightsOf(a, { timeZone: 'Mars/Olympus' })), 'INVALID_INPUT')).toBe(true);
    expect(isMonitorError(thrown(() => insightsOf({ ...a, bySlot: false }, { timeZone: 'UTC' })), 'INVALID_INPUT')).toBe(true);
    const unknownModel = thrown(() => insightsOf(a, { timeZone: 'UTC', models: ['nope'] }));
    expect(isMonitorError(unknownModel, 'UNKNOWN_MODEL')).toBe(true);
    expect((unknownModel as Error).message).toContain('"nope"');
  });
});

describe('insightScan', () => {
  const now = at('2024-06-12T10:07:00Z');

  it('splits only where a bound is off the grid, and widens the scan to this month and the last 7 days', () => {
    // the 7 days before the last 7 reach back further than June 1st
    expect(insightScan({ from: now - 7 * 86_400, to: now, now, timeZone: 'UTC' })).toEqual({ from: now - 14 * 86_400, to: now, splits: [now - 7 * 86_400] });
    // the last day: the scan starts with the month, and splits the day before and the last 7 days off
    expect(insightScan({ from: now - 86_400, to: now, now, timeZone: 'UTC' })).toEqual({
      from: at('2024-06-01T00:00:00Z'),
      to: now,
      splits: [now - 7 * 86_400, now - 2 * 86_400, now - 86_400],
    });
    // a window on the grid, long ago: the period before it and nothing more
    const from = at('2023-01-01T00:00:00Z');
    expect(insightScan({ from, to: from + 86_400, now, timeZone: 'UTC' })).toEqual({ from: from - 86_400, to: from + 86_400, splits: [] });
    // all data: the scan is unbounded, split 7 days ago and now
    expect(insightScan({ now, timeZone: 'Asia/Kathmandu' })).toEqual({ splits: [now - 7 * 86_400, now] });
    expect(isMonitorError(thrown(() => insightScan({ from: 10, to: 5, now, timeZone: 'UTC' })), 'INVALID_INPUT')).toBe(true);
    expect(isMonitorError(thrown(() => insightScan({ now: now * 1000, timeZone: 'UTC' })), 'INVALID_INPUT')).toBe(true);
  });

  it('projects from the days a model was monitored when that is less than 7, and labels it an estimate', () => {
    const first = at('2024-06-10T10:20:00Z');
    const api = model('api', flatTier(1, 0), [
      { at: first, tier: 1, requests: 1, inputTokens: 1_000_000 },
      { at: at('2024-06-11T12:00:00Z'), tier: 1, requests: 1, inputTokens: 2_000_000 },
    ]);
    const scan = insightScan({ now, timeZone: 'UTC' });
    const report = insightReport(aggregation([api], null, null, scan.splits), { now, timeZone: 'UTC' });
    const basisFrom = at('2024-06-10T10:15:00Z'); // the slot of the first record
    expect(report.projection).toMatchObject({ label: 'estimate', basis: { from: basisFrom, to: now }, monthEnd: at('2024-07-01T00:00:00Z') });
    const days = (now - basisFrom) / 86_400;
    expect(report.projection.basis!.days).toBeCloseTo(days, 12);
    expect(report.projection.total.ratePerDay.value).toBeCloseTo(3 / days, 12);
    expect(report.projection.total.monthTotal.value).toBeCloseTo(3 + (3 / days) * ((at('2024-07-01T00:00:00Z') - now) / 86_400), 12);
    // nothing recorded: every projected figure is unknown, with the reason
    const empty = insightReport(aggregation([model('api', flatTier(1, 0), [])], null, null, scan.splits), { now, timeZone: 'UTC' });
    expect(empty.projection.total.monthTotal).toEqual(unknown('currency', 'nothing recorded in the last 7 days: no run rate to project from'));
    // recorded long ago only: no rate, not a rate of 0
    const old = insightReport(aggregation([model('api', flatTier(1, 0), [{ at: at('2024-05-01T00:00:00Z'), tier: 1, requests: 1, inputTokens: 5 }])], null, null, scan.splits), { now, timeZone: 'UTC' });
    expect(old.projection.basis).toBeNull();
    expect(old.projection.total.ratePerDay.reason).toBe('nothing recorded in the last 7 days: no run rate to project from');
  });
});
