import { type Compared, type TierRow, formatNumber } from '@llm-monitor/core';
import { useState } from 'preact/hooks';
import { NoteList, Notes, type Show, currencyLabel, fig, moneyShow, showPercent, showTokens } from './figures.js';

/**
 * Tiers at work: one model's requests by input size against its tier boundaries, as a table whose bars
 * show the chosen measure per range. Input ranges no tier covers (their requests are unpriced) are
 * hatched and named so; ranges without requests and without a tier are left out.
 */

const BARS = [
  { key: 'requests', label: 'Requests' },
  { key: 'inputTokens', label: 'Input tokens' },
  { key: 'cost', label: 'Cost' },
] as const;
type Bar = (typeof BARS)[number]['key'];

/** `0 – 32,768`, `32,769 – ∞`, with the output range of a 2-D window. */
export function inputRange(t: { inputFrom: number; inputTo: number | null; outputFrom?: number; outputTo?: number | null }): string {
  const range = (from: number, to: number | null | undefined) => `${formatNumber(from)} – ${to === null || to === undefined ? '∞' : formatNumber(to)}`;
  return t.outputFrom === undefined ? range(t.inputFrom, t.inputTo) : `${range(t.inputFrom, t.inputTo)} (output ${range(t.outputFrom, t.outputTo)})`;
}

/** The rows the histogram shows: every tier, and the uncovered ranges requests fell in. */
export const shownTiers = (tiers: readonly Compared<TierRow>[]) => tiers.filter((t) => t.tierIndex !== null || t.requests.value !== 0);

interface Props {
  models: { name: string; billingMethod: string; tiers: Compared<TierRow>[] }[];
  currency: string | undefined;
  deltas: boolean;
}

export function TierHistogram({ models, currency, deltas }: Props) {
  const [name, setName] = useState('');
  const [bar, setBar] = useState<Bar>('requests');
  const model = models.find((m) => m.name === name) ?? models[0];
  if (!model) return null;
  const rows = shownTiers(model.tiers);
  const max = Math.max(0, ...rows.map((r) => r[bar].value ?? 0));
  const notes = new Notes();
  const money = moneyShow(currency);
  const c = currencyLabel(currency);
  const barShow: Show = bar === 'cost' ? money : showTokens;
  return (
    <div class="tier-histogram" data-testid="tier-histogram" data-model={model.name}>
      <div class="toolbar">
        {models.length > 1 && (
          <label class="field">
            Model
            <select data-testid="tier-model" value={model.name} onChange={(e) => setName(e.currentTarget.value)}>
              {models.map((m) => (
                <option key={m.name} value={m.name}>
                  {m.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label class="field">
          Bars
          <select data-testid="tier-bar" value={bar} onChange={(e) => setBar(e.currentTarget.value as Bar)}>
            {BARS.map((b) => (
              <option key={b.key} value={b.key}>
                {b.label}
              </option>
            ))}
          </select>
        </label>
        <p class="muted small">
          {model.name} is billed {model.billingMethod === 'tier' ? 'per token (tiers)' : 'by the hour: tier costs are not what it pays'}. Hatched: input sizes no
          tier covers (those requests are unpriced).
        </p>
      </div>
      <div class="table-wrap" role="region" aria-label={`Tiers at work, ${model.name}`} tabIndex={0}>
        <table class="data insight-table tiers-at-work" data-testid="tier-table">
          <caption class="visually-hidden">Requests of {model.name} by input size, per tier</caption>
          <thead>
            <tr>
              <th scope="col">Input tokens</th>
              <th scope="col">Tier</th>
              <th scope="col" class="bar-col">
                {BARS.find((b) => b.key === bar)!.label}
                {bar === 'cost' ? ` (${c})` : ''}
              </th>
              <th scope="col" class="num">Requests</th>
              <th scope="col" class="num">Share</th>
              <th scope="col" class="num">Input tokens</th>
              <th scope="col" class="num">Output tokens</th>
              <th scope="col" class="num">Cost ({c})</th>
              <th scope="col" class="num">Cost share</th>
              <th scope="col" class="num">Cache saving ({c})</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const unpriced = r.tierIndex === null;
              const v = r[bar].value;
              const width = v === null || max <= 0 ? 0 : Math.max(v > 0 ? 1 : 0, (100 * v) / max);
              return (
                <tr key={`${r.tierIndex}-${r.inputFrom}`} data-testid="tier-row" data-tier={r.tierIndex ?? 'none'} class={unpriced ? 'unpriced' : ''}>
                  <th scope="row">{inputRange(r)}</th>
                  <td>{unpriced ? <span class="badge warn">no tier · unpriced</span> : `tier ${r.tierIndex}`}</td>
                  <td class="bar-col" aria-hidden="true">
                    <span class="bar-track">
                      <span class={unpriced ? 'bar unpriced' : 'bar'} style={{ width: `${width}%` }} />
                    </span>
                    <span class="bar-label">{v === null ? '—' : barShow(v)}</span>
                  </td>
                  <td class="num">{fig(r.requests, showTokens, notes, { testId: 'tier-requests', deltas })}</td>
                  <td class="num">{fig(r.requestShare, showPercent, notes)}</td>
                  <td class="num">{fig(r.inputTokens, showTokens, notes, { testId: 'tier-input', deltas })}</td>
                  <td class="num">{fig(r.outputTokens, showTokens, notes)}</td>
                  <td class="num">{fig(r.cost, money, notes, { testId: 'tier-cost', deltas })}</td>
                  <td class="num">{fig(r.costShare, showPercent, notes)}</td>
                  <td class="num">{fig(r.cacheSaving, money, notes, { testId: 'tier-cache-saving' })}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <NoteList notes={notes} />
    </div>
  );
}
