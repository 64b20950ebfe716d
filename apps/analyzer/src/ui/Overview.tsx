import type { ModelSummary, Summary } from '@llm-monitor/core';
import { formatCompact, formatCost, formatDuration, formatInt } from '../lib/format.js';
import { modelColor } from './colors.js';

/** A number shown rounded, with its full precision in `data-value` (the hook tests and scripts read). */
function Value({ value, text, testId }: { value: number | null; text: string; testId?: string }) {
  return (
    <span data-value={value === null ? '' : String(value)} {...(testId ? { 'data-testid': testId } : {})}>
      {text}
    </span>
  );
}

export function Totals({ summary, programSeconds, hasProgramTable }: { summary: Summary; programSeconds: number; hasProgramTable: boolean }) {
  const t = summary.total;
  return (
    <div class="totals">
      <div class="card primary">
        <h3>Cost</h3>
        <p class="big">
          <Value value={t.cost} text={formatCost(t.cost)} testId="total-cost" />
        </p>
        <p class="muted small">
          per token <Value value={t.tierCost} text={formatCost(t.tierCost)} testId="total-tier-cost" /> · hourly{' '}
          <Value value={t.hourlyCost} text={formatCost(t.hourlyCost)} testId="total-hourly-cost" />
        </p>
      </div>
      <div class="card">
        <h3>Requests</h3>
        <p class="big">
          <Value value={t.requests} text={formatInt(t.requests)} testId="total-requests" />
        </p>
        {t.unpricedRequests > 0 ? (
          <p class="warn small" title="Requests of tier-billed models that no tier covers: reported, never priced as free">
            <Value value={t.unpricedRequests} text={formatInt(t.unpricedRequests)} testId="total-unpriced-requests" /> unpriced (no matching tier)
          </p>
        ) : (
          <p class="muted small">all priced</p>
        )}
      </div>
      <div class="card">
        <h3>Input tokens</h3>
        <p class="big">
          <Value value={t.inputTokens} text={formatCompact(t.inputTokens)} testId="total-input-tokens" />
        </p>
        <p class="muted small">{formatInt(t.inputTokens)}</p>
      </div>
      <div class="card">
        <h3>Output tokens</h3>
        <p class="big">
          <Value value={t.outputTokens} text={formatCompact(t.outputTokens)} testId="total-output-tokens" />
        </p>
        <p class="muted small">{formatInt(t.outputTokens)}</p>
      </div>
      <div class="card">
        <h3>Cache hits</h3>
        <p class="big">
          <Value value={t.cacheHitTokens} text={formatCompact(t.cacheHitTokens)} testId="total-cache-tokens" />
        </p>
        <p class="muted small">prompt tokens served from the KV cache</p>
      </div>
      <div class="card">
        <h3>Uptime</h3>
        <p class="big">
          <Value value={t.runtimeSeconds} text={formatDuration(t.runtimeSeconds)} testId="total-uptime" />
        </p>
        <p class="muted small">
          models, summed; idle <Value value={t.idleSeconds} text={formatDuration(t.idleSeconds)} testId="total-idle" />
          {hasProgramTable && (
            <>
              {' '}
              · program <Value value={programSeconds} text={formatDuration(programSeconds)} testId="program-uptime" />
            </>
          )}
        </p>
      </div>
    </div>
  );
}

export function ModelTable({ summary, order, overridden }: { summary: Summary; order: readonly string[]; overridden: ReadonlySet<string> }) {
  const color = (m: ModelSummary) => modelColor(Math.max(0, order.indexOf(m.name)));
  return (
    <div class="table-wrap">
      <table class="data models" data-testid="model-table">
        <thead>
          <tr>
            <th>Model</th>
            <th>Billing</th>
            <th class="num">Requests</th>
            <th class="num">Input</th>
            <th class="num">Output</th>
            <th class="num">Cache hits</th>
            <th class="num">Cost</th>
            <th class="num" title="Requests of a tier-billed model that no tier covers">Unpriced</th>
            <th class="num">Uptime</th>
            <th class="num" title="Uptime in 15-minute slots without a request">Idle</th>
            <th class="num" title="Cost per million tokens (input + output) served">Cost / M tokens</th>
          </tr>
        </thead>
        <tbody>
          {summary.models.map((m) => (
            <tr key={m.name} data-testid="model-row" data-model={m.name}>
              <td class="name">
                <span class="swatch" style={{ background: color(m) }} />
                <span title={m.name}>{m.name}</span> <span class="badge">{m.shape}</span>
              </td>
              <td data-testid="model-billing" data-value={m.billingMethod}>
                {m.billingMethod === 'tier' ? 'per token' : 'hourly'}
                {overridden.has(m.name) && <span class="badge edit">what-if</span>}
              </td>
              <td class="num">
                <Value value={m.requests} text={formatInt(m.requests)} testId="model-requests" />
              </td>
              <td class="num">
                <Value value={m.inputTokens} text={formatInt(m.inputTokens)} testId="model-input-tokens" />
              </td>
              <td class="num">
                <Value value={m.outputTokens} text={formatInt(m.outputTokens)} testId="model-output-tokens" />
              </td>
              <td class="num">
                <Value value={m.cacheHitTokens} text={formatInt(m.cacheHitTokens)} testId="model-cache-tokens" />
              </td>
              <td class="num strong">
                <Value value={m.cost} text={formatCost(m.cost)} testId="model-cost" />
              </td>
              <td class={m.unpricedRequests > 0 ? 'num warn' : 'num'}>
                <Value value={m.unpricedRequests} text={formatInt(m.unpricedRequests)} testId="model-unpriced" />
              </td>
              <td class="num">
                <Value value={m.runtimeSeconds} text={formatDuration(m.runtimeSeconds)} testId="model-uptime" />
              </td>
              <td class="num">
                <Value value={m.idleSeconds} text={formatDuration(m.idleSeconds)} testId="model-idle" />
              </td>
              <td class="num">
                <Value value={m.costPerMillionTokens} text={m.costPerMillionTokens === null ? '—' : formatCost(m.costPerMillionTokens)} testId="model-cost-per-million" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
