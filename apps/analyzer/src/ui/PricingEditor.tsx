import type { ModelBilling, ModelDescription } from '@llm-monitor/core';
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { type Draft, addTier, draftProblem, removeTier, sameDraft, setTierField } from '../lib/pricing-draft.js';
import { modelColor } from './colors.js';

interface Props {
  models: readonly ModelDescription[];
  stored: Readonly<Record<string, ModelBilling | null>>;
  /** The file's billing as drafts: what Reset restores. */
  originals: Readonly<Record<string, Draft>>;
  drafts: Readonly<Record<string, Draft>>;
  onChange(model: string, draft: Draft): void;
  onResetAll(): void;
  onDownload(): void;
  /** A message from core about an override it refused, per model. */
  rejected: Readonly<Record<string, string>>;
}

/**
 * The what-if editor: change any model's billing method, hourly price or tiers and every number on the
 * page is recomputed with these settings passed to core as `pricing` overrides. The file is never written.
 */
/** Bumped by every reset, so that fields holding half-typed text show the restored value again. */
const Revision = createContext(0);

export function PricingEditor({ models, stored, originals, drafts, onChange, onResetAll, onDownload, rejected }: Props) {
  const [revision, setRevision] = useState(0);
  const edited = models.filter((m) => drafts[m.name] && originals[m.name] && !sameDraft(drafts[m.name]!, originals[m.name]!));
  return (
    <Revision.Provider value={revision}>
      <div class="pricing">
        <div class="toolbar">
          <p class="muted">
            Prices are per million tokens or per hour, in the file's currency. Edits apply to this page only: the file is never modified.
            {edited.length > 0 && <strong> {edited.length} model{edited.length > 1 ? 's' : ''} edited.</strong>}
          </p>
          <button
            type="button"
            onClick={() => {
              setRevision((r) => r + 1);
              onResetAll();
            }}
            disabled={edited.length === 0}
            data-testid="pricing-reset-all"
          >
            Reset all
          </button>
          <button type="button" onClick={onDownload} data-testid="pricing-download">
            Download pricing JSON
          </button>
        </div>
        {models.map((m, i) => {
          const draft = drafts[m.name];
          const original = originals[m.name];
          if (!draft || !original) return null;
          const isEdited = !sameDraft(draft, original);
          const problem = draftProblem(draft) ?? rejected[m.name] ?? null;
          return (
            <section key={m.name} class={isEdited ? 'pricing-model edited' : 'pricing-model'} data-testid="pricing-model" data-model={m.name}>
              <header>
                <span class="swatch" style={{ background: modelColor(i) }} />
                <h3>{m.name}</h3>
                <span class="badge">{m.shape}</span>
                {stored[m.name] === null && <span class="badge warn">no billing rows in the file</span>}
                {isEdited && <span class="badge edit">what-if</span>}
                <button
                  type="button"
                  class="link"
                  disabled={!isEdited}
                  onClick={() => {
                    setRevision((r) => r + 1);
                    onChange(m.name, original);
                  }}
                  data-testid="pricing-reset"
                >
                  Reset
                </button>
              </header>
              <div class="pricing-row">
                <label>
                  Billing{' '}
                  <select
                    data-field="billing"
                    value={draft.useTierPricing ? 'tier' : 'hourly'}
                    onChange={(e) => onChange(m.name, { ...draft, useTierPricing: e.currentTarget.value === 'tier' })}
                  >
                    <option value="tier">per token (tiers)</option>
                    <option value="hourly">per hour of runtime</option>
                  </select>
                </label>
                <label>
                  Hourly price{' '}
                  <NumberField value={draft.hourlyPrice} field="hourlyPrice" onChange={(n) => onChange(m.name, { ...draft, hourlyPrice: n })} />
                </label>
              </div>
              {draft.kind === 'ranges' ? <RangeTiers draft={draft} onChange={(d) => onChange(m.name, d)} /> : <WindowTiers draft={draft} onChange={(d) => onChange(m.name, d)} />}
              {problem && (
                <p class="problem" role="alert" data-testid="pricing-problem">
                  {problem}
                </p>
              )}
            </section>
          );
        })}
      </div>
    </Revision.Provider>
  );
}

type RangeDraft = Extract<Draft, { kind: 'ranges' }>;
type WindowDraft = Extract<Draft, { kind: 'windows' }>;

function RangeTiers({ draft, onChange }: { draft: RangeDraft; onChange(d: Draft): void }) {
  const inactive = draft.useTierPricing ? '' : ' inactive';
  return (
    <div class={`tiers${inactive}`}>
      <table>
        <thead>
          <tr>
            <th>Tier</th>
            <th title="input tokens, inclusive">From tokens</th>
            <th title="input tokens, inclusive; -1 = unbounded">To tokens</th>
            <th>Input /M</th>
            <th>Output /M</th>
            <th>Cache</th>
            <th>Cache hit /M</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {draft.tiers.map((t) => {
            const set = (field: string) => (n: number | boolean) => onChange(setTierField(draft, t.tierIndex, field, n));
            return (
              <tr key={t.tierIndex} data-tier={t.tierIndex}>
                <td class="num">{t.tierIndex}</td>
                <td>
                  <NumberField value={t.startTokens} field="startTokens" tier={t.tierIndex} onChange={set('startTokens')} />
                </td>
                <td>
                  <NumberField value={t.endTokens} field="endTokens" tier={t.tierIndex} onChange={set('endTokens')} />
                </td>
                <td>
                  <NumberField value={t.inputPricePerMillion} field="inputPricePerMillion" tier={t.tierIndex} onChange={set('inputPricePerMillion')} />
                </td>
                <td>
                  <NumberField value={t.outputPricePerMillion} field="outputPricePerMillion" tier={t.tierIndex} onChange={set('outputPricePerMillion')} />
                </td>
                <td>
                  <input type="checkbox" checked={t.supportCache} data-field="supportCache" data-tier={t.tierIndex} onChange={(e) => set('supportCache')(e.currentTarget.checked)} />
                </td>
                <td>
                  <NumberField value={t.cacheHitPricePerMillion} field="cacheHitPricePerMillion" tier={t.tierIndex} onChange={set('cacheHitPricePerMillion')} />
                </td>
                <td>
                  <button type="button" class="link" onClick={() => onChange(removeTier(draft, t.tierIndex))} title={`Remove tier ${t.tierIndex}`}>
                    Remove
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <button type="button" class="link" onClick={() => onChange(addTier(draft))} data-testid="pricing-add-tier">
        + Add tier
      </button>
      <span class="muted small"> The first tier (by number) whose range holds a request's input tokens prices the whole request; -1 = unbounded.</span>
    </div>
  );
}

function WindowTiers({ draft, onChange }: { draft: WindowDraft; onChange(d: Draft): void }) {
  const inactive = draft.useTierPricing ? '' : ' inactive';
  const fields = [
    ['minInputTokens', 'Input >'],
    ['maxInputTokens', 'Input ≤'],
    ['minOutputTokens', 'Output >'],
    ['maxOutputTokens', 'Output ≤'],
    ['inputPrice', 'Input /M'],
    ['outputPrice', 'Output /M'],
  ] as const;
  return (
    <div class={`tiers${inactive}`}>
      <table>
        <thead>
          <tr>
            <th>Tier</th>
            {fields.map(([, label]) => (
              <th key={label}>{label}</th>
            ))}
            <th>Cache</th>
            <th>Cache write /M</th>
            <th>Cache read /M</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {draft.tiers.map((t) => {
            const set = (field: string) => (n: number | boolean) => onChange(setTierField(draft, t.tierIndex, field, n));
            return (
              <tr key={t.tierIndex} data-tier={t.tierIndex}>
                <td class="num">{t.tierIndex}</td>
                {fields.map(([field]) => (
                  <td key={field}>
                    <NumberField value={t[field]} field={field} tier={t.tierIndex} onChange={set(field)} />
                  </td>
                ))}
                <td>
                  <input type="checkbox" checked={t.supportCache} data-field="supportCache" data-tier={t.tierIndex} onChange={(e) => set('supportCache')(e.currentTarget.checked)} />
                </td>
                <td>
                  <NumberField value={t.cacheWritePrice} field="cacheWritePrice" tier={t.tierIndex} onChange={set('cacheWritePrice')} />
                </td>
                <td>
                  <NumberField value={t.cacheReadPrice} field="cacheReadPrice" tier={t.tierIndex} onChange={set('cacheReadPrice')} />
                </td>
                <td>
                  <button type="button" class="link" onClick={() => onChange(removeTier(draft, t.tierIndex))} title={`Remove tier ${t.tierIndex}`}>
                    Remove
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <button type="button" class="link" onClick={() => onChange(addTier(draft))} data-testid="pricing-add-tier">
        + Add tier
      </button>
      <span class="muted small">
        {' '}
        2-D windows (LLM-Manager v2.5+): both input and output tokens must fit; a lower bound is exclusive unless it is 0; -1 = unbounded.
      </span>
    </div>
  );
}

/** A text field holding a number: half-typed text ("1.") stays as typed; only a valid number reaches the draft. */
function NumberField({ value, onChange, field, tier }: { value: number; onChange(n: number): void; field: string; tier?: number }) {
  const [text, setText] = useState(String(value));
  const revision = useContext(Revision);
  useEffect(() => {
    // only an outside change (a reset) rewrites what the user is typing
    if (Number(text) !== value || text.trim() === '') setText(String(value));
  }, [value]);
  useEffect(() => setText(String(value)), [revision]);
  const n = Number(text);
  const valid = text.trim() !== '' && Number.isFinite(n);
  return (
    <input
      type="text"
      inputMode="decimal"
      size={8}
      value={text}
      aria-invalid={!valid}
      data-field={field}
      {...(tier === undefined ? {} : { 'data-tier': tier })}
      onInput={(e) => {
        const next = e.currentTarget.value;
        setText(next);
        const parsed = Number(next);
        if (next.trim() !== '' && Number.isFinite(parsed)) onChange(parsed);
      }}
    />
  );
}
