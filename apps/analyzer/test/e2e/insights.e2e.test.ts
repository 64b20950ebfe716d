import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ComparedFigure,
  type Figure,
  type InsightReport,
  type PricingOverrides,
  compare,
  dataSpan,
  insightReport,
  insightScan,
} from '@llm-monitor/core';
import { type CloudComparison, type CloudModel, cloudInputBounds, cloudModel, compareWithCloud } from '@llm-monitor/core/cloud';
import { openMonitor } from '@llm-monitor/driver-node';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { END, generateLargeFile } from './generate.js';
import { APP_DIR, appUnderTest, axeViolations, newPage } from './harness.js';

/**
 * The Insights section against core in Node: every figure shown equals `insightReport` (and
 * `compareWithCloud`) computed with driver-node on the same file the way the CLI does it (insightScan,
 * then one aggregation), while the page answers from the aggregation its worker already holds.
 */

const REQUESTS = 20_000;
const ZONE = 'Europe/Berlin';
const DAY = 86_400;
const FROM = END - 7 * DAY;
const TO = END;
const dir = mkdtempSync(join(tmpdir(), 'analyzer-insights-'));
const file = join(dir, 'insights.db');
const QWEN = 'Qwen3-Coder-30B-A3B-Instruct';
const BGE = 'bge-m3 (embeddings)';
const DEEPSEEK = 'DeepSeek-V3 (self-hosted)';

const app = appUnderTest();
/** The rows the histogram shows (as the page's TierHistogram): every tier, and uncovered ranges requests fell in. */
const shownTiers = <T extends { tierIndex: number | null; requests: { value: number | null } }>(tiers: readonly T[]) => tiers.filter((t) => t.tierIndex !== null || t.requests.value !== 0);
let now: number;

beforeAll(async () => {
  await generateLargeFile(file, REQUESTS);
  const monitor = await openMonitor(file, { readOnly: true });
  const span = dataSpan(await monitor.aggregate())!;
  await monitor.close();
  // the end of the data, as the page takes it: the first 15-minute boundary after the last activity
  now = Math.floor(span.last / 900) * 900 + 900;
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What core computes in Node, the way the CLI's `insights` command does. */
async function coreReport(options: { pricing?: PricingOverrides; models?: string[]; cloud?: string[]; usdPerUnit?: number } = {}) {
  const monitor = await openMonitor(file, { readOnly: true });
  try {
    const window = { from: FROM, to: TO };
    const selection = { ...(options.pricing ? { pricing: options.pricing } : {}), ...(options.models ? { models: options.models } : {}) };
    const targets: CloudModel[] = (options.cloud ?? []).map((ref) => cloudModel(ref));
    const aggregation = await monitor.aggregate({
      ...insightScan({ ...window, now, timeZone: ZONE }),
      ...selection,
      ...(targets.length > 0 ? { inputBounds: cloudInputBounds(targets) } : {}),
    });
    const report = insightReport(aggregation, { ...window, ...selection, now, timeZone: ZONE });
    let cloud = null;
    if (targets.length > 0) {
      const o = { ...selection, targets, ...(options.usdPerUnit === undefined ? {} : { usdPerUnit: options.usdPerUnit }) };
      cloud = compare(compareWithCloud(aggregation, { ...o, ...window }), compareWithCloud(aggregation, { ...o, ...report.previous! }));
    }
    return { report, cloud };
  } finally {
    await monitor.close();
  }
}

const link = (pricing?: PricingOverrides) => `?from=${FROM}&to=${TO}&tz=${encodeURIComponent(ZONE)}${pricing ? `&pricing=${encodeURIComponent(JSON.stringify(pricing))}` : ''}`;

async function openInsights(page: Page, pricing?: PricingOverrides): Promise<void> {
  await page.goto(`${app.base}${link(pricing)}`);
  await page.setInputFiles('[data-testid="file-input"]', file);
  await page.waitForSelector('[data-testid="overview"][data-ready="true"]', { timeout: 60_000 });
  await page.locator('#insights').scrollIntoViewIfNeeded();
  await waitForInsights(page);
}

async function waitForInsights(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid="insights"][data-ready="true"][aria-busy="false"]', { timeout: 60_000 });
}

interface Shown {
  value: string | null;
  reason: string | null;
  previous: string | null;
  delta: string | null;
  text: string;
}

const read = (figure: Locator): Promise<Shown> =>
  figure.evaluate((el) => ({
    value: el.getAttribute('data-value'),
    reason: el.getAttribute('data-reason'),
    previous: el.getAttribute('data-previous'),
    delta: el.getAttribute('data-delta'),
    text: el.textContent ?? '',
  }));

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

/** A figure shown as core has it: the value (— when unknown, never 0), the reason, and the previous value and delta. */
async function expectFigure(figure: Locator, expected: Figure | ComparedFigure, what: string): Promise<void> {
  const shown = await read(figure);
  if (expected.value === null) {
    expect(shown.value, `${what}: unknown`).toBe('');
    expect(shown.text, `${what}: shown as —`).toContain('—');
  } else expect(close(Number(shown.value), expected.value), `${what}: page ${shown.value}, core ${expected.value}`).toBe(true);
  expect(shown.reason, `${what}: reason`).toBe(expected.reason ?? null);
  if ('previous' in expected) {
    expect(shown.previous === '' ? null : Number(shown.previous), `${what}: previous`).toSatisfy((p: number | null) => (p === null ? expected.previous === null : close(p, expected.previous!)));
    expect(shown.delta === '' ? null : Number(shown.delta), `${what}: delta`).toSatisfy((d: number | null) => (d === null ? expected.delta === null : close(d, expected.delta!)));
  }
}

async function expectBilling(page: Page, report: InsightReport): Promise<void> {
  const { models, total } = report.insights;
  for (const m of models) {
    const row = page.locator(`[data-testid="billing-row"][data-model="${m.name}"]`);
    for (const [testId, f] of [
      ['actual-cost', m.billing.actualCost],
      ['tier-cost', m.billing.tierCost],
      ['hourly-cost', m.billing.hourlyCost],
      ['break-even-hourly', m.billing.breakEvenHourlyPrice],
      ['break-even-mtok', m.billing.breakEvenPricePerMillion],
      ['effective-mtok', m.billing.effectiveCostPerMillion],
      ['switch-saving', m.billing.switchSaving],
    ] as const)
      await expectFigure(row.locator(`[data-testid="${testId}"]`), f, `${m.name} ${testId}`);
    expect(await row.locator('[data-testid="cheaper"]').getAttribute('data-value')).toBe(m.billing.cheaperMethod ?? '');
  }
  const foot = page.locator('[data-testid="billing-total"]');
  await expectFigure(foot.locator('[data-testid="actual-cost"]'), total.billing.actualCost, 'total actual cost');
  await expectFigure(foot.locator('[data-testid="best-cost"]'), total.billing.bestCost, 'total best cost');
  await expectFigure(foot.locator('[data-testid="possible-saving"]'), total.billing.possibleSaving, 'total possible saving');
}

async function expectIdleAndCache(page: Page, report: InsightReport): Promise<void> {
  const { models, total } = report.insights;
  for (const m of [...models.map((x) => ({ ...x, row: `[data-testid="idle-row"][data-model="${x.name}"]`, cacheRow: `[data-testid="cache-row"][data-model="${x.name}"]` })), { ...total, name: 'total', row: '[data-testid="idle-total"]', cacheRow: '[data-testid="cache-total"]' }]) {
    const row = page.locator(m.row);
    await expectFigure(row.locator('[data-testid="runtime-hours"]'), m.idle.runtimeHours, `${m.name} runtime`);
    await expectFigure(row.locator('[data-testid="idle-hours"]'), m.idle.idleHours, `${m.name} idle hours`);
    await expectFigure(row.locator('[data-testid="idle-share"]'), m.idle.idleShare, `${m.name} idle share`);
    await expectFigure(row.locator('[data-testid="idle-cost"]'), m.idle.idleCost, `${m.name} idle cost`);
    const cache = page.locator(m.cacheRow);
    await expectFigure(cache.locator('[data-testid="cache-hits"]'), m.cache.cacheHitTokens, `${m.name} cache hits`);
    await expectFigure(cache.locator('[data-testid="hit-rate"]'), m.cache.hitRate, `${m.name} hit rate`);
    await expectFigure(cache.locator('[data-testid="cache-saving"]'), m.cache.saving, `${m.name} cache saving`);
  }
}

async function heatmapValues(page: Page): Promise<(number | null)[]> {
  return page.$$eval('[data-testid="heatmap-value"]', (cells) => cells.map((c) => (c.getAttribute('data-value') === '' ? null : Number(c.getAttribute('data-value')))));
}

function expectCells(shown: (number | null)[], expected: (number | null)[], what: string): void {
  expect(shown.length, what).toBe(168);
  shown.forEach((v, i) => expect(v === null ? expected[i] === null : close(v, expected[i]!), `${what} cell ${i}: page ${v}, core ${expected[i]}`).toBe(true));
}

async function expectTiers(page: Page, report: InsightReport, model: string): Promise<void> {
  await page.selectOption('[data-testid="tier-model"]', model);
  const m = report.insights.models.find((x) => x.name === model)!;
  const rows = page.locator('[data-testid="tier-row"]');
  const expected = shownTiers(m.tiers);
  await expect.poll(() => page.getAttribute('[data-testid="tier-histogram"]', 'data-model')).toBe(model);
  expect(await rows.count(), `${model}: histogram rows`).toBe(expected.length);
  for (const [i, t] of expected.entries()) {
    const row = rows.nth(i);
    expect(await row.getAttribute('data-tier')).toBe(t.tierIndex === null ? 'none' : String(t.tierIndex));
    await expectFigure(row.locator('[data-testid="tier-requests"]'), t.requests, `${model} tier ${t.tierIndex} requests`);
    await expectFigure(row.locator('[data-testid="tier-input"]'), t.inputTokens, `${model} tier ${t.tierIndex} input`);
    await expectFigure(row.locator('[data-testid="tier-cost"]'), t.cost, `${model} tier ${t.tierIndex} cost`);
    await expectFigure(row.locator('[data-testid="tier-cache-saving"]'), t.cacheSaving, `${model} tier ${t.tierIndex} cache saving`);
  }
}

describe('insights', () => {
  it('every figure of the billing advisor, idle money, cache savings, tiers and projection equals core’s insightReport, with its previous value and delta', async () => {
    const { page, close: done } = await newPage(app.browser, app.base, { timezoneId: ZONE, viewport: { width: 1440, height: 900 } });
    await openInsights(page);
    const { report } = await coreReport();
    expect(Number(await page.getAttribute('[data-testid="insights-report"]', 'data-now'))).toBe(now);
    expect(report.previous).not.toBeNull();
    await expectBilling(page, report);
    await expectIdleAndCache(page, report);

    // heatmap: the default measure (idle hours) over all models, then requests of one model, then cost
    expect(await page.getAttribute('[data-testid="heatmap"]', 'data-measure')).toBe('idleHours');
    expectCells(await heatmapValues(page), report.insights.total.hourOfWeek.idleHours.values, 'idle hours, total');
    await page.selectOption('[data-testid="heatmap-measure"]', 'requests');
    await page.selectOption('[data-testid="heatmap-scope"]', QWEN);
    const qwen = report.insights.models.find((m) => m.name === QWEN)!;
    expectCells(await heatmapValues(page), qwen.hourOfWeek.requests.values, `requests, ${QWEN}`);
    await page.selectOption('[data-testid="heatmap-measure"]', 'cost');
    expectCells(await heatmapValues(page), qwen.hourOfWeek.cost.values, `cost, ${QWEN}`);
    await page.click('.heatmap-table summary');
    await page.check('[data-testid="heatmap-changes"]');
    expectCells(await heatmapValues(page), qwen.hourOfWeek.cost.delta!, `cost change since before, ${QWEN}`);
    await page.uncheck('[data-testid="heatmap-changes"]');
    await page.click('.heatmap-table summary');
    // the legend names its unit; requests lie on weekday office hours (a shade above "none" on Monday 10:00 Berlin)
    expect(await page.textContent('[data-testid="heatmap-legend"]')).toMatch(/¤/);

    await expectTiers(page, report, QWEN);
    await expectTiers(page, report, DEEPSEEK);

    // projection: an estimate, with the days it is based on
    const { projection } = report;
    expect(projection.basis).not.toBeNull();
    expect(await page.textContent('[data-testid="insights-projection"]')).toContain('estimate');
    expect(await page.textContent('[data-testid="projection-basis"]')).toContain(`last ${projection.basis!.days.toFixed(1)} days`);
    for (const m of [...projection.models.map((x) => ({ ...x, sel: `[data-testid="projection-row"][data-model="${x.name}"]` })), { name: 'total', cost: projection.total, sel: '[data-testid="projection-total"]' }]) {
      const row = page.locator(m.sel);
      await expectFigure(row.locator('[data-testid="month-to-date"]'), m.cost.monthToDate, `${m.name} month to date`);
      await expectFigure(row.locator('[data-testid="rate-per-day"]'), m.cost.ratePerDay, `${m.name} rate`);
      await expectFigure(row.locator('[data-testid="month-total"]'), m.cost.monthTotal, `${m.name} month total`);
    }

    // the section's model filter: one model, its figures and its own total
    await page.selectOption('[data-testid="insights-model"]', DEEPSEEK);
    await expect.poll(() => page.locator('[data-testid="billing-row"]').count()).toBe(1);
    await waitForInsights(page);
    const { report: one } = await coreReport({ models: [DEEPSEEK] });
    await expectBilling(page, one);
    await expectIdleAndCache(page, one);
    expectCells(await heatmapValues(page), one.insights.total.hourOfWeek.cost.values, `cost, ${DEEPSEEK} alone`);
    await done();
  });

  it('an unknown figure is — with its reason beside it, never 0 (a tier model without an hourly price; an S1 file without cache columns)', async () => {
    const { page, close: done } = await newPage(app.browser, app.base, { timezoneId: ZONE });
    await openInsights(page);
    const hourly = page.locator(`[data-testid="billing-row"][data-model="${QWEN}"] [data-testid="hourly-cost"]`);
    const shown = await read(hourly);
    expect(shown.value).toBe('');
    expect(shown.reason).toBe('no hourly price set');
    expect(shown.text).toMatch(/^—not known\[\d\]/);
    const note = shown.text.match(/\[(\d)\]/)![1];
    expect(await page.locator('[data-testid="billing-notes"] li').nth(Number(note) - 1).textContent()).toBe(`[${note}] no hourly price set`);

    await page.goto(`${app.base}?url=/fixtures/seed-v1-dev.db&tz=UTC`);
    await page.waitForSelector('[data-testid="overview"][data-ready="true"]');
    await page.locator('#insights').scrollIntoViewIfNeeded();
    await waitForInsights(page);
    const hits = await read(page.locator('[data-testid="cache-total"] [data-testid="cache-hits"]'));
    expect(hits.value).toBe('');
    expect(hits.reason).toContain('no cache columns (S1)');
    expect(await page.textContent('[data-testid="cache-notes"]')).toContain('no cache columns (S1)');
    // "All" has no period before it: said once, with the reason
    expect(await page.getAttribute('[data-testid="insights-previous"]', 'data-reason')).toContain('unbounded');
    await done();
  });

  it('a what-if override changes every insight as core computes it, including a tier bound that leaves requests unpriced (shown apart)', async () => {
    const pricing: PricingOverrides = {
      [QWEN]: { hourlyPrice: 3 },
      [BGE]: { tierPricing: [{ tierIndex: 1, startTokens: 0, endTokens: 1000, inputPricePerMillion: 0.05, outputPricePerMillion: 0 }] },
    };
    const { page, close: done } = await newPage(app.browser, app.base, { timezoneId: ZONE });
    await openInsights(page, pricing);
    const { report } = await coreReport({ pricing });
    const { report: stored } = await coreReport();
    const qwen = report.insights.models.find((m) => m.name === QWEN)!;
    expect(qwen.billing.hourlyCost.value).not.toBeNull();
    expect(qwen.billing.hourlyCost.value).not.toBe(stored.insights.models.find((m) => m.name === QWEN)!.billing.hourlyCost.value);
    await expectBilling(page, report);
    await expectIdleAndCache(page, report);
    await expectTiers(page, report, BGE);
    const unpriced = page.locator('[data-testid="tier-row"][data-tier="none"]');
    expect(await unpriced.count()).toBe(1);
    expect(await unpriced.textContent()).toContain('unpriced');
    expect(Number(await unpriced.locator('[data-testid="tier-requests"]').getAttribute('data-value'))).toBeGreaterThan(0);
    await done();
  });

  it('cloud comparison: the catalog loads only when asked; figures equal compareWithCloud, with the catalog version; an unknown model shows core’s error', async () => {
    const { page, requests, close: done } = await newPage(app.browser, app.base, { timezoneId: ZONE });
    await openInsights(page);
    expect(requests.filter((u) => /\/cloud-[^/]*\.js$/.test(u)), 'the catalog before a comparison').toEqual([]);
    await page.check('[data-testid="cloud-pick"][value="openai:gpt-4o-mini"]');
    await page.fill('[data-testid="usd-rate"]', '0.14');
    await page.waitForSelector('[data-testid="cloud-target"][data-ref="openai:gpt-4o-mini"]');
    await expect.poll(() => page.textContent('[data-testid="cloud-catalog"]')).toContain('1 ¤ = 0.14 USD');
    await waitForInsights(page);
    expect(requests.filter((u) => /\/cloud-[^/]*\.js$/.test(u)).length, 'the catalog once asked for').toBe(1);
    const { cloud } = await coreReport({ cloud: ['openai:gpt-4o-mini'], usdPerUnit: 0.14 });
    const target = (cloud as ReturnType<typeof compare<CloudComparison>>).targets[0]!;
    expect(await page.textContent('[data-testid="cloud-catalog"]')).toContain(`${cloud!.catalog.name} ${cloud!.catalog.version}`);
    const card = page.locator('[data-testid="cloud-target"][data-ref="openai:gpt-4o-mini"]');
    for (const m of [...target.models.map((x) => ({ ...x, sel: `[data-testid="cloud-row"][data-model="${x.name}"]` })), { ...target.total, name: 'total', sel: '[data-testid="cloud-total"]' }]) {
      const row = card.locator(m.sel);
      await expectFigure(row.locator('[data-testid="cloud-cost"]'), m.cloudCost, `${m.name} cloud cost`);
      await expectFigure(row.locator('[data-testid="cloud-saving"]'), m.saving, `${m.name} saving`);
      await expectFigure(row.locator('[data-testid="cloud-local"]'), m.localCost, `${m.name} local cost`);
    }

    await page.fill('[data-testid="cloud-other"]', 'openai:no-such-model');
    await page.click('[data-testid="cloud-add"]');
    const error = page.locator('[data-testid="cloud-error"][data-ref="openai:no-such-model"]');
    await error.waitFor();
    let message = '';
    try {
      cloudModel('openai:no-such-model');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('Unknown cloud model');
    expect(await error.textContent()).toContain(message);
    expect(await error.textContent()).toContain('INVALID_INPUT');
    await done();
  });

  it('at 1440×900 and 390×844, light and dark: axe finds nothing critical or serious in the section; no page overflow at 360 and 390 px; screenshots', async () => {
    const { page, close: done } = await newPage(app.browser, app.base, { timezoneId: ZONE, viewport: { width: 1440, height: 900 } });
    await openInsights(page);
    await page.check('[data-testid="cloud-pick"][value="openai:gpt-4o-mini"]');
    await page.fill('[data-testid="usd-rate"]', '1');
    await page.waitForSelector('[data-testid="cloud-target"]');
    await waitForInsights(page);
    await page.click('.heatmap-table summary');
    const shots = process.env.UPDATE_SCREENSHOT ? join(APP_DIR, 'docs') : join(APP_DIR, 'test-results');
    mkdirSync(shots, { recursive: true });
    for (const viewport of [
      { width: 1440, height: 900 },
      { width: 390, height: 844 },
    ])
      for (const colorScheme of ['light', 'dark'] as const) {
        const where = `${viewport.width}×${viewport.height}, ${colorScheme}`;
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme });
        await expect.poll(() => page.getAttribute('html', 'data-scheme')).toBe(colorScheme);
        const serious = (await axeViolations(page)).filter((v) => v.impact === 'critical' || v.impact === 'serious');
        expect(serious, `${where}: ${JSON.stringify(serious, null, 1)}`).toEqual([]);
        expect(await page.evaluate(() => document.documentElement.scrollWidth), where).toBeLessThanOrEqual(viewport.width);
        await page.locator('#insights').evaluate((el) => el.scrollIntoView());
        await page.screenshot({ path: join(shots, `insights-${viewport.width}-${colorScheme}.png`), fullPage: false });
        await page.locator('[data-testid="insights-idle"]').evaluate((el) => el.scrollIntoView());
        await page.screenshot({ path: join(shots, `insights-heatmap-${viewport.width}-${colorScheme}.png`) });
        await page.locator('[data-testid="insights-tiers"]').evaluate((el) => el.scrollIntoView());
        await page.screenshot({ path: join(shots, `insights-tiers-${viewport.width}-${colorScheme}.png`) });
        await page.locator('[data-testid="insights-cloud"]').evaluate((el) => el.scrollIntoView());
        await page.screenshot({ path: join(shots, `insights-cloud-${viewport.width}-${colorScheme}.png`) });
      }
    await page.setViewportSize({ width: 360, height: 800 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth), '360 px').toBeLessThanOrEqual(360);
    // keyboard: the section's controls and its scrolling tables are reachable with Tab
    const reached = new Set<string>();
    await page.locator('[data-testid="insights-model"]').focus();
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      reached.add(await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.tagName ?? ''));
    }
    for (const id of ['heatmap-measure', 'heatmap-scope', 'tier-model', 'tier-bar', 'Billing advisor']) expect([...reached], id).toContain(id);
    console.log(`insights_screenshots: ${shots}/insights-{,heatmap-,tiers-,cloud-}{1440,390}-{light,dark}.png`);
    await done();
  });
});
