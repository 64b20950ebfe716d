import type { ComponentChildren } from 'preact';
import { type ModelSummary, type Summary, costDecimals, formatCost, formatDuration, formatNumber } from '@llm-monitor/core';
import { useState } from 'preact/hooks';
import { formatShare } from '../lib/format.js';
import type { OverviewResult } from '../worker/protocol.js';

/** A number shown rounded, with its full precision in `data-value` (the hook tests and scripts read). */
export function Value({ value, text, testId }: { value: number | null; text: string; testId?: string }) {
  return (
    <span data-value={value === null ? '' : String(value)} {...(testId ? { 'data-testid': testId } : {})}>
      {text}
    </span>
  );
}

/** A card's headline figure; long ones (billions of tokens) in a smaller size, so that they never break. */
function Big({ children, text, title }: { children: ComponentChildren; text: string; title?: string }) {
  return (
    <p class={text.length > 11 ? 'big long' : 'big'} {...(title ? { title } : {})}>
      {children}
    </p>
  );
}

/** `+12.30 (+4.1%)`, `−3.00 (−50%)`, `no change`: a what-if cost against the stored-price one. */
export function Delta({ value, baseline, decimals, currency, testId }: { value: number; baseline: number; decimals: number; currency?: string; testId?: string }) {
  const diff = value - baseline;
  if (Math.abs(diff) < 1e-12) return <span class="delta" data-value="0" {...(testId ? { 'data-testid': testId } : {})}>no change</span>;
  const sign = diff > 0 ? '+' : '−';
  const share = baseline !== 0 ? ` (${sign}${formatNumber(Math.abs((100 * diff) / baseline), { decimals: Math.abs(diff / baseline) >= 0.1 ? 0 : 1 })}%)` : '';
  return (
    <span class={diff > 0 ? 'delta up' : 'delta down'} data-value={String(diff)} {...(testId ? { 'data-testid': testId } : {})}>
      {sign}
      {formatCost(Math.abs(diff), { decimals, ...(currency ? { currency } : {}) })}
      {share}
    </span>
  );
}

/**
 * One decimals count for every cost of the overview (cards, the model table, the what-if strip): the
 * same figure never shows with two precisions on one page.
 */
export function moneyFormat(overview: OverviewResult, currency?: string): { decimals: number; currency?: string } {
  const figures = [overview.summary, ...(overview.baseline ? [overview.baseline.summary] : [])];
  const costs = figures.flatMap((s) => [s.total.cost, s.total.tierCost, s.total.hourlyCost, ...s.models.map((m) => m.cost)]);
  return { decimals: costDecimals(costs), ...(currency ? { currency } : {}) };
}

export function Totals({ overview, currency, hasProgramTable }: { overview: OverviewResult; currency?: string; hasProgramTable: boolean }) {
  const t = overview.summary.total;
  const base = overview.baseline?.summary.total ?? null;
  const money = moneyFormat(overview, currency);
  const window = overview.windowSeconds;
  return (
    <div class="totals">
      <div class={base ? 'card primary wide' : 'card primary'}>
        <h3>Cost{base && <span class="badge edit">what-if</span>}</h3>
        <Big text={formatCost(t.cost, money)}>
          <Value value={t.cost} text={formatCost(t.cost, money)} testId="total-cost" />
        </Big>
        {base && (
          <p class="baseline small">
            stored prices <Value value={base.cost} text={formatCost(base.cost, money)} testId="baseline-total-cost" /> ·{' '}
            <Delta value={t.cost} baseline={base.cost} decimals={money.decimals} {...(currency ? { currency } : {})} testId="total-cost-delta" />
          </p>
        )}
        <p class="muted small">
          per token <Value value={t.tierCost} text={formatCost(t.tierCost, money)} testId="total-tier-cost" /> · hourly{' '}
          <Value value={t.hourlyCost} text={formatCost(t.hourlyCost, money)} testId="total-hourly-cost" />
        </p>
      </div>
      <div class="card">
        <h3>Requests</h3>
        <Big text={formatNumber(t.requests)}>
          <Value value={t.requests} text={formatNumber(t.requests)} testId="total-requests" />
        </Big>
        {t.unpricedRequests > 0 ? (
          <p class="warn small" title="Requests of tier-billed models that no tier covers: reported, never priced as free">
            <Value value={t.unpricedRequests} text={formatNumber(t.unpricedRequests)} testId="total-unpriced-requests" /> unpriced (no matching tier)
          </p>
        ) : (
          <p class="muted small">all priced</p>
        )}
        {t.unusableRequests > 0 && (
          <p class="warn small" title="Requests whose stored token counts are text or negative: left out of every figure">
            <Value value={t.unusableRequests} text={formatNumber(t.unusableRequests)} testId="total-unusable-requests" /> with unusable values, left out
          </p>
        )}
      </div>
      <div class="card">
        <h3>Input tokens</h3>
        <Big text={formatNumber(t.inputTokens)}>
          <Value value={t.inputTokens} text={formatNumber(t.inputTokens)} testId="total-input-tokens" />
        </Big>
        <p class="muted small">
          cache hits <Value value={t.cacheHitTokens} text={formatNumber(t.cacheHitTokens)} testId="total-cache-tokens" />
        </p>
      </div>
      <div class="card">
        <h3>Output tokens</h3>
        <Big text={formatNumber(t.outputTokens)}>
          <Value value={t.outputTokens} text={formatNumber(t.outputTokens)} testId="total-output-tokens" />
        </Big>
        <p class="muted small">{formatNumber(t.inputTokens + t.outputTokens)} tokens in all</p>
      </div>
      <div class="card">
        <h3>Uptime</h3>
        <p class="big" title="Share of the window in which at least one model was running (runs merged, not summed)">
          <Value value={window > 0 ? overview.anyModelSeconds / window : null} text={formatShare(overview.anyModelSeconds, window)} testId="uptime-share" />
        </p>
        <p class="muted small">
          a model ran <Value value={overview.anyModelSeconds} text={formatDuration(overview.anyModelSeconds)} testId="total-uptime" /> of{' '}
          <Value value={window} text={formatDuration(window)} testId="window-length" />
          {hasProgramTable && (
            <>
              {' '}
              · program <Value value={overview.programSeconds} text={formatShare(overview.programSeconds, window)} testId="program-uptime" />
            </>
          )}
        </p>
      </div>
    </div>
  );
}

type SortKey =
  | 'order'
  | 'name'
  | 'billingMethod'
  | 'requests'
  | 'inputTokens'
  | 'outputTokens'
  | 'cacheHitTokens'
  | 'cost'
  | 'baselineCost'
  | 'delta'
  | 'unpricedRequests'
  | 'runtimeSeconds'
  | 'idleSeconds'
  | 'costPerMillionTokens';

interface Row extends ModelSummary {
  order: number;
  baselineCost: number | null;
  delta: number | null;
  color: string;
}

interface Column {
  key: SortKey;
  label: string;
  numeric: boolean;
  title?: string;
  scenario?: boolean;
}

const COLUMNS: readonly Column[] = [
  { key: 'name', label: 'Model', numeric: false },
  { key: 'cost', label: 'Cost', numeric: true },
  { key: 'baselineCost', label: 'Stored prices', numeric: true, title: 'The cost at the prices stored in the file', scenario: true },
  { key: 'delta', label: 'Change', numeric: true, title: 'What-if cost minus the cost at stored prices', scenario: true },
  { key: 'requests', label: 'Requests', numeric: true },
  { key: 'inputTokens', label: 'Input', numeric: true, title: 'Input tokens' },
  { key: 'outputTokens', label: 'Output', numeric: true, title: 'Output tokens' },
  { key: 'cacheHitTokens', label: 'Cache hits', numeric: true, title: 'Prompt tokens served from the KV cache' },
  { key: 'billingMethod', label: 'Billing', numeric: false },
  { key: 'unpricedRequests', label: 'Unpriced', numeric: true, title: 'Requests of a tier-billed model that no tier covers' },
  { key: 'runtimeSeconds', label: 'Uptime', numeric: true, title: 'Time the model ran in the window, and its share of the window' },
  { key: 'idleSeconds', label: 'Idle', numeric: true, title: 'Uptime in 15-minute slots without a request' },
  { key: 'costPerMillionTokens', label: 'Cost / M tokens', numeric: true, title: 'Cost per million tokens (input + output) served' },
];

/** Per model, sortable by any column (click a heading; again to reverse); the file's order until then. */
export function ModelTable({
  overview,
  colors,
  overridden,
  currency,
}: {
  overview: OverviewResult;
  colors: Readonly<Record<string, string>>;
  overridden: ReadonlySet<string>;
  currency?: string;
}) {
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: 'order', descending: false });
  const baseline = overview.baseline?.summary ?? null;
  const scenario = baseline !== null;
  const rows: Row[] = overview.summary.models.map((m, order) => {
    const b = baseline?.models.find((x) => x.name === m.name)?.cost ?? null;
    return { ...m, order, baselineCost: b, delta: b === null ? null : m.cost - b, color: colors[m.name] ?? 'gray' };
  });
  const sorted = [...rows].sort((a, b) => {
    const x = a[sort.key];
    const y = b[sort.key];
    const c = typeof x === 'string' || typeof y === 'string' ? String(x).localeCompare(String(y)) : (x ?? Number.NEGATIVE_INFINITY) - (y ?? Number.NEGATIVE_INFINITY);
    return (sort.descending ? -c : c) || a.order - b.order;
  });
  const money = moneyFormat(overview, currency);
  const perMillion = { decimals: costDecimals(rows.map((r) => r.costPerMillionTokens ?? 0)), ...(currency ? { currency } : {}) };
  const window = overview.windowSeconds;
  const columns = COLUMNS.filter((c) => !c.scenario || scenario);
  const total = overview.summary.total;

  return (
    <div class="table-wrap" role="region" aria-label="Usage and cost per model" tabIndex={0}>
      <table class="data models" data-testid="model-table">
        <caption class="visually-hidden">Usage and cost per model; select a column heading to sort by it.</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th
                key={c.key}
                class={c.numeric ? 'num' : ''}
                scope="col"
                aria-sort={sort.key === c.key ? (sort.descending ? 'descending' : 'ascending') : undefined}
                {...(c.title ? { title: c.title } : {})}
              >
                <button
                  type="button"
                  class="sort"
                  data-sort={c.key}
                  onClick={() => setSort((s) => (s.key === c.key ? { key: c.key, descending: !s.descending } : { key: c.key, descending: c.numeric }))}
                >
                  {c.label}
                  {sort.key === c.key ? (sort.descending ? ' ▼' : ' ▲') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted.map((m) => (
            <tr key={m.name} data-testid="model-row" data-model={m.name}>
              <th scope="row" class="name">
                <span class="swatch" style={{ background: m.color }} />
                <span title={m.name}>{m.name}</span> <span class="badge">{m.shape}</span>
              </th>
              <td class="num strong">
                <Value value={m.cost} text={formatCost(m.cost, money)} testId="model-cost" />
              </td>
              {scenario && (
                <>
                  <td class="num baseline">
                    <Value value={m.baselineCost} text={formatCost(m.baselineCost ?? 0, money)} testId="model-baseline-cost" />
                  </td>
                  <td class="num">
                    <Delta value={m.cost} baseline={m.baselineCost ?? 0} decimals={money.decimals} {...(currency ? { currency } : {})} testId="model-cost-delta" />
                  </td>
                </>
              )}
              <td class="num">
                <Value value={m.requests} text={formatNumber(m.requests)} testId="model-requests" />
              </td>
              <td class="num">
                <Value value={m.inputTokens} text={formatNumber(m.inputTokens)} testId="model-input-tokens" />
              </td>
              <td class="num">
                <Value value={m.outputTokens} text={formatNumber(m.outputTokens)} testId="model-output-tokens" />
              </td>
              <td class="num">
                <Value value={m.cacheHitTokens} text={formatNumber(m.cacheHitTokens)} testId="model-cache-tokens" />
              </td>
              <td data-testid="model-billing" data-value={m.billingMethod}>
                {m.billingMethod === 'tier' ? 'per token' : 'hourly'}
                {overridden.has(m.name) && <span class="badge edit">what-if</span>}
              </td>
              <td class={m.unpricedRequests > 0 ? 'num warn' : 'num'}>
                <Value value={m.unpricedRequests} text={formatNumber(m.unpricedRequests)} testId="model-unpriced" />
              </td>
              <td class="num">
                <Value value={m.runtimeSeconds} text={formatDuration(m.runtimeSeconds)} testId="model-uptime" />
                <span class="muted"> · {formatShare(m.runtimeSeconds, window)}</span>
              </td>
              <td class="num">
                <Value value={m.idleSeconds} text={formatDuration(m.idleSeconds)} testId="model-idle" />
              </td>
              <td class="num">
                <Value
                  value={m.costPerMillionTokens}
                  text={m.costPerMillionTokens === null ? '—' : formatCost(m.costPerMillionTokens, perMillion)}
                  testId="model-cost-per-million"
                />
              </td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">All models</th>
            <td class="num">{formatCost(total.cost, money)}</td>
            {scenario && (
              <>
                <td class="num baseline">{formatCost(baseline.total.cost, money)}</td>
                <td class="num">
                  <Delta value={total.cost} baseline={baseline.total.cost} decimals={money.decimals} {...(currency ? { currency } : {})} />
                </td>
              </>
            )}
            <td class="num">{formatNumber(total.requests)}</td>
            <td class="num">{formatNumber(total.inputTokens)}</td>
            <td class="num">{formatNumber(total.outputTokens)}</td>
            <td class="num">{formatNumber(total.cacheHitTokens)}</td>
            <td />
            <td class="num">{formatNumber(total.unpricedRequests)}</td>
            <td class="num">{formatShare(overview.anyModelSeconds, window)} any</td>
            <td />
            <td />
          </tr>
        </tfoot>
      </table>
    </div>
  );
}

/** What makes the figures less than certain (unusable stored values, models left out), from core. */
export function SummaryProblems({ problems }: { problems: readonly string[] }) {
  if (problems.length === 0) return null;
  return (
    <details class="notice slim" data-testid="summary-problems">
      <summary>
        {problems.length === 1 ? 'One thing in the file affects' : `${problems.length} things in the file affect`} these figures
      </summary>
      <ul>
        {problems.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
    </details>
  );
}

/** True when the window holds neither a request nor a minute of a model's runtime. */
export function isEmpty(summary: Summary): boolean {
  return summary.total.requests === 0 && summary.total.runtimeSeconds === 0;
}
