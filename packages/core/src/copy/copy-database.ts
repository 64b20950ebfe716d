import type { UsageTotals } from '../analytics/report.js';
import { MonitorError } from '../errors.js';
import type { Monitor } from '../monitor/monitor.js';

export interface CopyOptions {
  /** Requests written per batch (default 10 000). */
  batchSize?: number;
}

export interface CopiedModel {
  name: string;
  requests: number;
  runs: number;
  tiers: number;
}

/** What was copied; every count was checked against the target after the copy committed. */
export interface CopyReport {
  models: CopiedModel[];
  programRuns: number;
  requests: number;
  runs: number;
}

/** The totals compared between source and target, per model. */
const CHECKED: (keyof UsageTotals)[] = ['requests', 'inputTokens', 'outputTokens', 'cacheHitTokens', 'cost', 'runtimeSeconds', 'openRuns'];

const same = (a: number | null, b: number | null) => a === b || (a !== null && b !== null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a)));

/**
 * Copies everything a monitor database holds (program runs; per model its runs, requests and billing
 * settings, in registration order) from one Monitor into another, whatever their engines: a SQLite
 * file into PostgreSQL and back. The target must hold no model and no program run yet; the whole copy
 * is one transaction on it, so a failed copy leaves it empty (`TARGET_NOT_EMPTY` when it is not empty to
 * begin with). Afterwards, counts, token sums, cost and runtime per model are compared between the two,
 * and any difference fails with `COPY_MISMATCH` (`error.value` lists every difference).
 *
 * Rows keep their order, so their ids are the source's as long as the source has no gaps in its ids
 * (files written by this project or by the original have none). Models stored in a layout this Monitor
 * does not write (S4–S7) fail the copy with `SCHEMA_MISMATCH` before anything is written. Neither
 * Monitor is closed.
 *
 * @example
 * const from = await openSqliteMonitor('webui/monitoring.db', { readOnly: true }); // @llm-monitor/driver-node
 * const to = await openPostgresMonitor('postgres://monitor@db.internal/llm'); // @llm-monitor/driver-postgres
 * const report = await copyDatabase(from, to);
 */
export async function copyDatabase(from: Monitor, to: Monitor, options: CopyOptions = {}): Promise<CopyReport> {
  const batchSize = options.batchSize ?? 10_000;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new MonitorError('INVALID_INPUT', `Invalid batchSize: got ${batchSize} (expected a positive integer).`, { value: batchSize });
  const models = await from.listModels();
  const unwritable = models.filter((m) => !m.writable);
  if (unwritable.length > 0)
    throw new MonitorError(
      'SCHEMA_MISMATCH',
      `Cannot copy ${unwritable.map((m) => `${JSON.stringify(m.name)} (layout ${m.shape})`).join(', ')}: only models in the native layout (S1–S3) can be copied.`,
      { model: unwritable[0]!.name, value: unwritable.map((m) => m.shape) },
    );
  const existing = await to.listModels();
  if (existing.length > 0 || (await to.getProgramRuntime(1)).length > 0)
    throw new MonitorError(
      'TARGET_NOT_EMPTY',
      `The target database is not empty (${existing.length} models${existing.length ? `, e.g. ${JSON.stringify(existing[0]!.name)}` : ''}, or program runs): copy into an empty database.`,
    );

  const report: CopyReport = { models: [], programRuns: 0, requests: 0, runs: 0 };
  const withBilling = new Set<string>();
  await to.transaction(async (tx) => {
    const programRuns = (await from.getProgramRuntime()).reverse();
    for (const run of programRuns) {
      await tx.addProgramRuntimeStart(run.startTime);
      if (run.endTime !== run.startTime) await tx.updateProgramRuntimeEnd(run.endTime);
    }
    report.programRuns = programRuns.length;

    for (const { name } of models) {
      await tx.registerModel(name);
      const billing = await from.getModelBilling(name);
      if (billing) {
        withBilling.add(name);
        await tx.updateBillingMethod(name, billing.useTierPricing);
        await tx.updateHourlyPrice(name, billing.hourlyPrice);
        // a new model has the default tier 1; every other tier is added
        if (!billing.tierPricing.some((t) => t.tierIndex === 1)) await tx.deleteTierPricing(name, 1);
        for (const tier of billing.tierPricing) await (tier.tierIndex === 1 ? tx.updateTierPricing(name, tier) : tx.addTierPricing(name, tier));
      }
      const runs = (await from.getModelRuntime(name)).reverse();
      for (const run of runs) {
        await tx.addModelRuntimeStart(name, run.startTime);
        if (run.endTime !== run.startTime) await tx.updateModelRuntimeEnd(name, run.endTime);
      }
      let requests = 0;
      // page by page, in id order: memory stays flat whatever the number of requests
      for await (const page of from.iterateRequests(name, { pageSize: batchSize })) {
        await tx.addModelRequests(
          name,
          page.map((r) => [r.timestamp, r.inputTokens, r.outputTokens, r.cacheN, r.promptN] as const),
        );
        requests += page.length;
      }
      report.models.push({ name, requests, runs: runs.length, tiers: billing?.tierPricing.length ?? 0 });
      report.requests += requests;
      report.runs += runs.length;
    }
  });

  await verifyCopy(from, to, report, withBilling);
  return report;
}

async function verifyCopy(from: Monitor, to: Monitor, report: CopyReport, withBilling: ReadonlySet<string>): Promise<void> {
  const problems: string[] = [];
  const targetNames = (await to.listModels()).map((m) => m.name);
  if (JSON.stringify(targetNames) !== JSON.stringify(report.models.map((m) => m.name)))
    problems.push(`models ${JSON.stringify(targetNames)} instead of ${JSON.stringify(report.models.map((m) => m.name))}`);
  const programRuns = (await to.getProgramRuntime()).length;
  if (programRuns !== report.programRuns) problems.push(`${programRuns} program runs instead of ${report.programRuns}`);
  // models without billing rows in the source get the defaults in the target: compare usage only
  const usage = { pricing: Object.fromEntries(report.models.filter((m) => !withBilling.has(m.name)).map((m) => [m.name, { useTierPricing: true, tierPricing: [] }])) };
  const [source, target] = [await from.summary(usage), await to.summary(usage)];
  for (const model of report.models) {
    const a = source.models.find((m) => m.name === model.name);
    const b = target.models.find((m) => m.name === model.name);
    for (const field of CHECKED)
      if (!same((a?.[field] as number | null) ?? null, (b?.[field] as number | null) ?? null))
        problems.push(`model ${JSON.stringify(model.name)}: ${field} ${b?.[field]} instead of ${a?.[field]}`);
    const runs = (await to.getModelRuntime(model.name)).length;
    if (runs !== model.runs) problems.push(`model ${JSON.stringify(model.name)}: ${runs} runs instead of ${model.runs}`);
    const tiers = (await to.getModelBilling(model.name))?.tierPricing.length ?? 0;
    if (withBilling.has(model.name) && tiers !== model.tiers) problems.push(`model ${JSON.stringify(model.name)}: ${tiers} tiers instead of ${model.tiers}`);
  }
  if (problems.length > 0)
    throw new MonitorError('COPY_MISMATCH', `The copy differs from its source: ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? ` (and ${problems.length - 10} more)` : ''}.`, {
      value: problems,
    });
}
