import { type PricingOverrides, formatDateTime, formatNumber } from '@llm-monitor/core';
import { memo } from 'preact/compat';
import { useEffect, useRef, useState } from 'preact/hooks';
import { type AnalyzerClient, AnalyzerError } from '../client.js';
import type { InsightsQuery, InsightsResult, UserError } from '../worker/protocol.js';
import { CloudPanel } from './CloudPanel.js';
import { ErrorBox } from './ErrorBox.js';
import { NoteList, Notes, Part, TableWrap, currencyLabel, fig, moneyShow, showHours, showPercent, showTokens } from './figures.js';
import { HourOfWeekHeatmap } from './HourOfWeekHeatmap.js';
import { TierHistogram } from './TierHistogram.js';
import { useNearScreen } from './near-screen.js';

/**
 * The Insights section: core's insight report of the range (billing advisor, idle money with the
 * hour-of-week heatmap, cache savings, tiers at work, each figure beside the period before it), the month
 * projected from the last 7 days, and a comparison with cloud prices. Computed in the worker from the
 * aggregation it already holds, after the overview of the same view is shown, and only once the section
 * has come near the screen.
 */

interface Props {
  client: AnalyzerClient;
  /** Changes with another file or snapshot: the view is asked for again. */
  dataKey: string;
  from: number | null;
  to: number | null;
  timeZone: string;
  pricing: PricingOverrides;
  /** True once the overview of this view is shown (the worker answers in order: it comes first). */
  ready: boolean;
  models: readonly string[];
  currency: string | undefined;
  scenario: boolean;
}

export const Insights = memo(function Insights({ client, dataKey, from, to, timeZone, pricing, ready, models, currency, scenario }: Props) {
  // computed once the section comes near the screen: changes of the view above it stay as quick as before
  const root = useRef<HTMLElement>(null);
  const visible = useNearScreen(root);
  const [model, setModel] = useState<string | null>(null);
  const [cloud, setCloud] = useState<string[]>([]);
  const [usdPerUnit, setUsdPerUnit] = useState<number | null>(null);
  const [shown, setShown] = useState<{ key: string; result: InsightsResult } | null>(null);
  const [error, setError] = useState<{ key: string; error: UserError } | null>(null);
  useEffect(() => {
    if (model !== null && !models.includes(model)) setModel(null);
  }, [models, model]);

  const query: InsightsQuery = { from, to, timeZone, pricing, models: model === null || !models.includes(model) ? null : [model], cloud, usdPerUnit };
  const key = `${dataKey}|${JSON.stringify(query)}`;
  const asked = useRef('');
  useEffect(() => {
    if (!ready || !visible || asked.current === key) return;
    asked.current = key;
    let live = true;
    client
      .call({ type: 'insights', query })
      .then((result) => {
        if (!live) return;
        setShown({ key, result });
        setError(null);
      })
      .catch((e: unknown) => {
        if (!live || (e instanceof AnalyzerError && e.error.kind === 'superseded')) return;
        asked.current = '';
        setError({ key, error: e instanceof AnalyzerError ? e.error : { kind: 'internal', title: 'Insights failed', message: String(e), detail: '' } });
      });
    return () => {
      live = false;
      if (asked.current === key) asked.current = '';
    };
  }, [key, ready, visible]);

  const busy = shown?.key !== key && error?.key !== key;
  const result = shown?.result ?? null;
  return (
    <section
      ref={root}
      id="insights"
      class="panel insights"
      aria-labelledby="insights-heading"
      aria-busy={busy ? 'true' : 'false'}
      data-testid="insights"
      data-ready={result && !busy ? 'true' : 'false'}
      data-compute-ms={result?.ms ?? ''}
    >
      <h2 id="insights-heading">
        Insights {busy && <span class="spinner" role="status" aria-label="computing insights" />}
        {scenario && <span class="badge edit">with what-if pricing</span>}
      </h2>
      <div class="toolbar">
        <label class="field">
          Models
          <select data-testid="insights-model" value={model ?? ''} onChange={(e) => setModel(e.currentTarget.value || null)}>
            <option value="">All models</option>
            {models.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <p class="muted small">
          For the range, zone and what-if prices above. Costs in {currency ?? 'the file’s own currency (¤; choose a currency above to name it)'}. A figure
          that is not known shows — and a numbered reason, never 0.
        </p>
      </div>
      {error && error.key === key && <ErrorBox error={error.error} testId="insights-error" />}
      {result && <Report result={result} currency={currency} />}
      {result && (
        <CloudPanel
          cloud={result.cloud}
          errors={result.cloudErrors}
          refs={cloud}
          usdPerUnit={usdPerUnit}
          onRefs={setCloud}
          onUsdPerUnit={setUsdPerUnit}
          currency={currency}
          deltas={result.report.previous !== null}
          busy={busy}
        />
      )}
    </section>
  );
});

function Report({ result, currency }: { result: InsightsResult; currency: string | undefined }) {
  const { report } = result;
  const { insights, projection, timeZone } = report;
  const at = (t: number) => formatDateTime(t, timeZone);
  const deltas = report.previous !== null;
  const c = currencyLabel(currency);
  const window =
    report.from === null && report.to === null ? 'All recorded data' : `${report.from === null ? 'The beginning' : at(report.from)} → ${report.to === null ? 'the end' : at(report.to)}`;
  if (insights.models.length === 0) return <p class="empty">No models in this file.</p>;
  const rows = insights.models;
  const total = insights.total;

  const money = moneyShow(currency);
  const billingNotes = new Notes();
  const idleNotes = new Notes();
  const cacheNotes = new Notes();
  const projNotes = new Notes();
  const month = formatDateTime(projection.monthStart, timeZone, 'day').slice(0, 7);

  const scopes = [
    { key: '', label: rows.length === 1 ? rows[0]!.name : 'all models', matrix: total.hourOfWeek },
    ...(rows.length > 1 ? rows.map((m) => ({ key: m.name, label: m.name, matrix: m.hourOfWeek })) : []),
  ];
  const d = { deltas };

  return (
    <div class="insights-report" data-testid="insights-report" data-now={result.now} data-from={report.from ?? ''} data-to={report.to ?? ''}>
      <p class="small" data-testid="insights-window">
        <strong>{window}</strong> ({timeZone}).{' '}
        {report.previous ? (
          <span data-testid="insights-previous">
            Each figure is compared with the period before it, {at(report.previous.from)} → {at(report.previous.to)}: ▲ more, ▼ less.
          </span>
        ) : (
          <span data-testid="insights-previous" data-reason={report.previousReason}>
            No comparison: {report.previousReason}. Choose a range with both ends (e.g. 7 d) to compare.
          </span>
        )}
      </p>
      {insights.problems.length > 0 && (
        <div class="notice slim" data-testid="insights-problems">
          {insights.problems.join(' ')}
        </div>
      )}

      <Part id="insights-billing" title="Billing advisor">
        <p class="muted small">
          The cost as billed, per token (with the model’s tiers) and per hour (runtime × its hourly price); the hourly price at which both cost the same (tier cost ÷
          runtime hours) and the price per million tokens at which they do (hourly cost ÷ million tokens); what a million tokens actually cost.
        </p>
        <TableWrap label="Billing advisor">
          <table class="data insight-table" data-testid="billing-table">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Billed</th>
                <th scope="col" class="num">Cost as billed ({c})</th>
                <th scope="col" class="num">Per token ({c})</th>
                <th scope="col" class="num">Per hour ({c})</th>
                <th scope="col" class="num">Break-even ({c}/h)</th>
                <th scope="col" class="num">Break-even ({c}/M tok)</th>
                <th scope="col" class="num">Paid ({c}/M tok)</th>
                <th scope="col">Cheaper</th>
                <th scope="col" class="num">Switching saves ({c})</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((m) => (
                <tr key={m.name} data-testid="billing-row" data-model={m.name}>
                  <th scope="row" class="name" title={m.name}>
                    {m.name}
                  </th>
                  <td>{m.billingMethod === 'tier' ? 'per token' : 'per hour'}</td>
                  <td class="num">{fig(m.billing.actualCost, money, billingNotes, { testId: 'actual-cost', ...d })}</td>
                  <td class="num">{fig(m.billing.tierCost, money, billingNotes, { testId: 'tier-cost', ...d })}</td>
                  <td class="num">{fig(m.billing.hourlyCost, money, billingNotes, { testId: 'hourly-cost', ...d })}</td>
                  <td class="num">{fig(m.billing.breakEvenHourlyPrice, money, billingNotes, { testId: 'break-even-hourly', ...d })}</td>
                  <td class="num">{fig(m.billing.breakEvenPricePerMillion, money, billingNotes, { testId: 'break-even-mtok', ...d })}</td>
                  <td class="num">{fig(m.billing.effectiveCostPerMillion, money, billingNotes, { testId: 'effective-mtok', ...d })}</td>
                  <td data-testid="cheaper" data-value={m.billing.cheaperMethod ?? ''}>
                    {m.billing.cheaperMethod === null ? '—' : m.billing.cheaperMethod === 'tier' ? 'per token' : m.billing.cheaperMethod === 'hourly' ? 'per hour' : 'the same'}
                  </td>
                  <td class="num">{fig(m.billing.switchSaving, money, billingNotes, { testId: 'switch-saving', ...d })}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr data-testid="billing-total">
                <th scope="row">Total</th>
                <td />
                <td class="num">{fig(total.billing.actualCost, money, billingNotes, { testId: 'actual-cost', ...d })}</td>
                <td colSpan={5} class="muted small wrap">
                  Each model on its cheaper method: {fig(total.billing.bestCost, money, billingNotes, { testId: 'best-cost' })}
                </td>
                <td />
                <td class="num">{fig(total.billing.possibleSaving, money, billingNotes, { testId: 'possible-saving', ...d })}</td>
              </tr>
            </tfoot>
          </table>
        </TableWrap>
        <NoteList notes={billingNotes} testId="billing-notes" />
      </Part>

      <Part id="insights-idle" title="Idle money">
        <p class="muted small">Runtime in 15-minute slots without a request (as the overview’s idle time), and what it costs at the hourly price.</p>
        <TableWrap label="Idle money">
          <table class="data insight-table" data-testid="idle-table">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col" class="num">Runtime (h)</th>
                <th scope="col" class="num">Idle (h)</th>
                <th scope="col" class="num">Idle share (%)</th>
                <th scope="col" class="num">Idle cost ({c})</th>
              </tr>
            </thead>
            <tbody>
              {[...rows.map((m) => ({ name: m.name, idle: m.idle, testId: 'idle-row' })), { name: 'Total', idle: total.idle, testId: 'idle-total' }].map((m) => (
                <tr key={m.name} data-testid={m.testId} data-model={m.name} class={m.testId === 'idle-total' ? 'total' : ''}>
                  <th scope="row" class="name" title={m.name}>
                    {m.name}
                  </th>
                  <td class="num">{fig(m.idle.runtimeHours, showHours, idleNotes, { testId: 'runtime-hours', ...d })}</td>
                  <td class="num">{fig(m.idle.idleHours, showHours, idleNotes, { testId: 'idle-hours', ...d })}</td>
                  <td class="num">{fig(m.idle.idleShare, showPercent, idleNotes, { testId: 'idle-share', ...d })}</td>
                  <td class="num">{fig(m.idle.idleCost, money, idleNotes, { testId: 'idle-cost', ...d })}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
        <NoteList notes={idleNotes} testId="idle-notes" />
        <h4>When: by hour of the week</h4>
        <HourOfWeekHeatmap scopes={scopes} currency={currency} timeZone={timeZone} />
      </Part>

      <Part id="insights-cache" title="Cache savings">
        <p class="muted small">Prompt tokens served from the KV cache, their share of the input, and the money the tiers’ cache prices saved.</p>
        <TableWrap label="Cache savings">
          <table class="data insight-table" data-testid="cache-table">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col" class="num">Cache-hit tokens</th>
                <th scope="col" class="num">Hit rate (%)</th>
                <th scope="col" class="num">Saving ({c})</th>
              </tr>
            </thead>
            <tbody>
              {[...rows.map((m) => ({ name: m.name, cache: m.cache, testId: 'cache-row' })), { name: 'Total', cache: total.cache, testId: 'cache-total' }].map((m) => (
                <tr key={m.name} data-testid={m.testId} data-model={m.name} class={m.testId === 'cache-total' ? 'total' : ''}>
                  <th scope="row" class="name" title={m.name}>
                    {m.name}
                  </th>
                  <td class="num">{fig(m.cache.cacheHitTokens, showTokens, cacheNotes, { testId: 'cache-hits', ...d })}</td>
                  <td class="num">{fig(m.cache.hitRate, showPercent, cacheNotes, { testId: 'hit-rate', ...d })}</td>
                  <td class="num">{fig(m.cache.saving, money, cacheNotes, { testId: 'cache-saving', ...d })}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
        <NoteList notes={cacheNotes} testId="cache-notes" />
      </Part>

      <Part id="insights-tiers" title="Tiers at work">
        <TierHistogram models={rows} currency={currency} deltas={deltas} />
      </Part>

      <Part id="insights-projection" title={`Projection of ${month}`} badge="estimate">
        <p class="small" data-testid="projection-basis">
          <strong>An estimate</strong>, as of {at(projection.now)} ({timeZone}), the end of the data in this file (not today’s date):{' '}
          {projection.basis ? (
            <>
              the month so far plus the run rate of the last {formatNumber(projection.basis.days, { decimals: 1 })} days ({at(projection.basis.from)} →{' '}
              {at(projection.basis.to)}) for the {formatNumber((projection.monthEnd - projection.now) / 86_400, { decimals: 1 })} days left in the month.
            </>
          ) : (
            <>no basis: {projection.reason}.</>
          )}
        </p>
        <TableWrap label="Projection">
          <table class="data insight-table" data-testid="projection-table">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col" class="num">Month to date ({c})</th>
                <th scope="col" class="num">Per day, est. ({c}/day)</th>
                <th scope="col" class="num">Rest of month, est. ({c})</th>
                <th scope="col" class="num">Month, est. ({c})</th>
              </tr>
            </thead>
            <tbody>
              {[...projection.models.map((m) => ({ ...m, testId: 'projection-row' })), { name: 'Total', cost: projection.total, testId: 'projection-total' }].map((m) => (
                <tr key={m.name} data-testid={m.testId} data-model={m.name} class={m.testId === 'projection-total' ? 'total' : ''}>
                  <th scope="row" class="name" title={m.name}>
                    {m.name}
                  </th>
                  <td class="num">{fig(m.cost.monthToDate, money, projNotes, { testId: 'month-to-date' })}</td>
                  <td class="num">{fig(m.cost.ratePerDay, money, projNotes, { testId: 'rate-per-day' })}</td>
                  <td class="num">{fig(m.cost.restOfMonth, money, projNotes, { testId: 'rest-of-month' })}</td>
                  <td class="num">{fig(m.cost.monthTotal, money, projNotes, { testId: 'month-total' })}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
        <NoteList notes={projNotes} testId="projection-notes" />
      </Part>
    </div>
  );
}
