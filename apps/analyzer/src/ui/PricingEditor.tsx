import { type ModelBilling, type Shape, formatCost } from '@llm-monitor/core';
import { createContext } from 'preact';
import { memo } from 'preact/compat';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { type Draft, FIELD_LABELS, addTier, draftProblems, draftWarnings, removeTier, sameDraft, setTierField } from '../lib/pricing-draft.js';
import type { OverviewResult } from '../worker/protocol.js';
import { Delta, Value, moneyFormat } from './Overview.js';

interface Props {
  models: readonly { name: string; shape: Shape }[];
  stored: Readonly<Record<string, ModelBilling | null>>;
  /** The file's billing as drafts: what Reset restores. */
  originals: Readonly<Record<string, Draft>>;
  drafts: Readonly<Record<string, Draft>>;
  colors: Readonly<Record<string, string>>;
  /** The figures shown (what-if and stored prices), for the strip and each model's heading. */
  overview: OverviewResult | null;
  currency?: string;
  onChange(model: string, draft: Draft): void;
  onResetAll(): void;
  /** Null while a field is invalid: only a valid scenario is exported. */
  onExport: (() => void) | null;
  onImport(file: File): void;
  /** What was wrong with the last imported file, in words. */
  importProblems: readonly string[];
  /** A message from core about an override it refused, per model. */
  rejected: Readonly<Record<string, string>>;
}

/** Bumped by every reset or import, so that fields holding half-typed text show the new value. */
const Revision = createContext(0);

/**
 * The what-if editor: change any model's billing method, hourly price or tiers and every number on the
 * page is recomputed with these settings passed to core as `pricing` overrides, beside the stored-price
 * figures. The file is never written. Each problem is shown at its field, in words.
 */
export function PricingEditor(props: Props) {
  const { models, stored, originals, drafts, colors, overview, currency, onChange, onResetAll, onExport, onImport, importProblems, rejected } = props;
  const [revision, setRevision] = useState(0);
  const importInput = useRef<HTMLInputElement>(null);
  const edited = models.filter((m) => drafts[m.name] && originals[m.name] && !sameDraft(drafts[m.name]!, originals[m.name]!));
  const total = overview?.summary.total.cost ?? null;
  const base = overview?.baseline?.summary.total.cost ?? null;
  const money = overview ? moneyFormat(overview, currency) : { decimals: 2 };
  useEffect(() => setRevision((r) => r + 1), [originals]);
  const resetOne = useCallback(
    (model: string, original: Draft) => {
      setRevision((r) => r + 1);
      onChange(model, original);
    },
    [onChange],
  );

  return (
    <Revision.Provider value={revision}>
      <div class="pricing">
        {total !== null && (
          <p class="whatif-strip" data-testid="whatif-strip" aria-live="polite">
            <span>
              Total cost <strong>{formatCost(total, money)}</strong>
            </span>
            {base !== null ? (
              <>
                <span>
                  stored prices <Value value={base} text={formatCost(base, money)} />
                </span>
                <Delta value={total} baseline={base} decimals={money.decimals} {...(currency ? { currency } : {})} />
              </>
            ) : (
              <span class="muted">at the stored prices: edit a price below to compare</span>
            )}
          </p>
        )}
        <div class="toolbar">
          <p class="muted">
            Prices are per million tokens or per hour{currency ? ` (${currency})` : ", in the file's currency"}. Edits apply to this page and its link only: the file
            is never modified.
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
          <button type="button" onClick={() => importInput.current?.click()} data-testid="pricing-import-button">
            Import JSON…
          </button>
          <input
            ref={importInput}
            type="file"
            accept=".json,application/json"
            class="visually-hidden"
            tabIndex={-1}
            aria-label="Import a pricing scenario (JSON)"
            data-testid="pricing-import"
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              if (file) onImport(file);
              e.currentTarget.value = '';
            }}
          />
          <button
            type="button"
            onClick={() => onExport?.()}
            disabled={onExport === null}
            title={onExport === null ? 'Correct the marked fields first' : undefined}
            data-testid="pricing-download"
          >
            Export JSON
          </button>
        </div>
        {importProblems.length > 0 && (
          <div class="error" role="alert" data-testid="import-error">
            <h2>That scenario was not imported</h2>
            <ul>
              {importProblems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </div>
        )}
        {models.map((m, i) => {
          const draft = drafts[m.name];
          const original = originals[m.name];
          if (!draft || !original) return null;
          return (
            <ModelPricing
              key={m.name}
              id={`pm-${i}`}
              model={m}
              draft={draft}
              original={original}
              color={colors[m.name] ?? 'gray'}
              noBilling={stored[m.name] === null}
              cost={overview?.summary.models.find((x) => x.name === m.name)?.cost}
              baseline={overview?.baseline?.summary.models.find((x) => x.name === m.name)?.cost}
              decimals={money.decimals}
              currency={currency}
              rejected={rejected[m.name]}
              onChange={onChange}
              onReset={resetOne}
            />
          );
        })}
      </div>
    </Revision.Provider>
  );
}

interface ModelPricingProps {
  id: string;
  model: { name: string; shape: Shape };
  draft: Draft;
  original: Draft;
  color: string;
  noBilling: boolean;
  /** The model's cost as shown, and at the stored prices (with a what-if). */
  cost: number | undefined;
  baseline: number | undefined;
  decimals: number;
  currency: string | undefined;
  rejected: string | undefined;
  onChange(model: string, draft: Draft): void;
  onReset(model: string, original: Draft): void;
}

/** One model's billing; re-rendered only when its own draft or figures change. */
const ModelPricing = memo(function ModelPricing(props: ModelPricingProps) {
  const { id, model: m, draft, original, color, noBilling, cost, baseline, decimals, currency, rejected, onChange, onReset } = props;
  const money = { decimals, ...(currency ? { currency } : {}) };
  const isEdited = !sameDraft(draft, original);
  const problems = draftProblems(draft);
  const warnings = draftWarnings(draft);
  const errorAt = (path: (string | number)[]) => problems.find((p) => p.path.join('.') === path.join('.'))?.message;
  return (
    <section class={isEdited ? 'pricing-model edited' : 'pricing-model'} data-testid="pricing-model" data-model={m.name} aria-labelledby={`${id}-name`}>
      <header>
        <span class="swatch" style={{ background: color }} />
        <h3 id={`${id}-name`}>{m.name}</h3>
        <span class="badge">{m.shape}</span>
        {noBilling && <span class="badge warn">no billing rows in the file</span>}
        {isEdited && <span class="badge edit">what-if</span>}
        {cost !== undefined && (
          <span class="model-cost muted">
            cost {formatCost(cost, money)}
            {baseline !== undefined && isEdited && (
              <>
                {' '}
                (stored {formatCost(baseline, money)}, <Delta value={cost} baseline={baseline} decimals={decimals} {...(currency ? { currency } : {})} />)
              </>
            )}
          </span>
        )}
        <button
          type="button"
          class="link"
          disabled={!isEdited}
          onClick={() => onReset(m.name, original)}
          data-testid="pricing-reset"
        >
          Reset
        </button>
      </header>
      <div class="pricing-row">
        <label class="field">
          Billing
          <select
            data-field="billing"
            value={draft.useTierPricing ? 'tier' : 'hourly'}
            onChange={(e) => onChange(m.name, { ...draft, useTierPricing: e.currentTarget.value === 'tier' })}
          >
            <option value="tier">per token (tiers)</option>
            <option value="hourly">per hour of runtime</option>
          </select>
        </label>
        <label class="field">
          Hourly price
          <NumberField
            value={draft.hourlyPrice}
            field="hourlyPrice"
            label={`${m.name}: hourly price`}
            error={errorAt(['hourlyPrice'])}
            id={`${id}-hourly`}
            onChange={(n) => onChange(m.name, { ...draft, hourlyPrice: n })}
          />
        </label>
      </div>
      <Tiers model={m.name} id={id} draft={draft} errorAt={errorAt} onChange={(d) => onChange(m.name, d)} />
      {rejected && (
        <p class="problem" role="alert" data-testid="pricing-problem">
          {rejected}
        </p>
      )}
      {problems.length > 0 && (
        <p class="problem" data-testid="pricing-problem">
          {problems.length === 1 ? 'One field needs' : `${problems.length} fields need`} correcting before these prices apply; the figures above still use
          the last valid ones.
        </p>
      )}
      {warnings.length > 0 && (
        <ul class="warnings" data-testid="pricing-warnings">
          {warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
    </section>
  );
});

const RANGE_COLUMNS = [
  ['startTokens', 'From tokens', 'input tokens, inclusive'],
  ['endTokens', 'To tokens', 'input tokens, inclusive; -1 = no limit'],
  ['inputPricePerMillion', 'Input /M', 'price per million input tokens'],
  ['outputPricePerMillion', 'Output /M', 'price per million output tokens'],
  ['supportCache', 'Cache', 'price cache hits separately'],
  ['cacheHitPricePerMillion', 'Cache hit /M', 'price per million prompt tokens served from the cache'],
] as const;

const WINDOW_COLUMNS = [
  ['minInputTokens', 'Input >', 'input tokens above this (0: from 0)'],
  ['maxInputTokens', 'Input ≤', 'input tokens up to this; -1 = no limit'],
  ['minOutputTokens', 'Output >', 'output tokens above this (0: from 0)'],
  ['maxOutputTokens', 'Output ≤', 'output tokens up to this; -1 = no limit'],
  ['inputPrice', 'Input /M', 'price per million input tokens'],
  ['outputPrice', 'Output /M', 'price per million output tokens'],
  ['supportCache', 'Cache', 'price cache reads and writes separately'],
  ['cacheWritePrice', 'Cache write /M', 'extra price per million prompt tokens processed'],
  ['cacheReadPrice', 'Cache read /M', 'price per million tokens read from the cache'],
] as const;

function Tiers({
  model,
  id,
  draft,
  errorAt,
  onChange,
}: {
  model: string;
  id: string;
  draft: Draft;
  errorAt(path: (string | number)[]): string | undefined;
  onChange(d: Draft): void;
}) {
  const columns = draft.kind === 'ranges' ? RANGE_COLUMNS : WINDOW_COLUMNS;
  const key = draft.kind === 'ranges' ? 'tierPricing' : 'tierWindows';
  return (
    <div class={draft.useTierPricing ? 'tiers' : 'tiers inactive'}>
      {!draft.useTierPricing && <p class="muted small">Billed per hour: these tiers apply only when billing is per token.</p>}
      <div class="table-wrap" role="region" aria-label={`${model}: tiers`} tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">Tier</th>
              {columns.map(([field, label, title]) => (
                <th key={field} scope="col" title={title}>
                  {label}
                </th>
              ))}
              <th>
                <span class="visually-hidden">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {draft.tiers.map((t, position) => {
              const set = (field: string) => (value: number | boolean) => onChange(setTierField(draft, t.tierIndex, field, value));
              return (
                <tr key={t.tierIndex} data-tier={t.tierIndex}>
                  <td class="num" data-label="Tier">
                    {t.tierIndex}
                  </td>
                  {columns.map(([field, heading]) => {
                    const label = `${model}: tier ${t.tierIndex}, ${FIELD_LABELS[field]}`;
                    const value = (t as unknown as Record<string, number | boolean>)[field]!;
                    return (
                      <td key={field} data-label={heading}>
                        {field === 'supportCache' ? (
                          <input type="checkbox" checked={value as boolean} aria-label={label} data-field={field} data-tier={t.tierIndex} onChange={(e) => set(field)(e.currentTarget.checked)} />
                        ) : (
                          <NumberField
                            value={value as number}
                            field={field}
                            tier={t.tierIndex}
                            label={label}
                            id={`${id}-t${t.tierIndex}-${field}`}
                            error={errorAt([key, position, field])}
                            onChange={set(field)}
                          />
                        )}
                      </td>
                    );
                  })}
                  <td>
                    <button type="button" class="link" onClick={() => onChange(removeTier(draft, t.tierIndex))} aria-label={`${model}: remove tier ${t.tierIndex}`}>
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <button type="button" class="link" onClick={() => onChange(addTier(draft))} data-testid="pricing-add-tier">
        + Add tier
      </button>
      <span class="muted small">
        {' '}
        {draft.kind === 'ranges'
          ? 'The first tier (by number) whose range holds a request’s input tokens prices the whole request; -1 = no limit.'
          : '2-D windows (LLM-Manager v2.5+): both input and output tokens must fit; a lower bound is exclusive unless it is 0; -1 = no limit.'}
      </span>
    </div>
  );
}

/**
 * A text field holding a number. What is typed stays as typed and reaches the draft: a number as such,
 * anything else as the text, so that core reports it at this field instead of it being dropped.
 */
function NumberField(props: { value: number; onChange(n: number): void; field: string; tier?: number; label: string; id: string; error: string | undefined }) {
  const { value, onChange, field, tier, label, id, error } = props;
  const [text, setText] = useState(String(value));
  const revision = useContext(Revision);
  useEffect(() => {
    // only an outside change (a reset, an import) rewrites what the user is typing
    if (!Object.is(parse(text), value)) setText(String(value));
  }, [value]);
  useEffect(() => setText(String(value)), [revision]);
  return (
    <>
      <input
        type="text"
        inputMode="decimal"
        size={8}
        value={text}
        id={id}
        aria-label={label}
        aria-invalid={error !== undefined}
        aria-describedby={error !== undefined ? `${id}-error` : undefined}
        data-field={field}
        {...(tier === undefined ? {} : { 'data-tier': tier })}
        onInput={(e) => {
          const next = e.currentTarget.value;
          setText(next);
          onChange(parse(next));
        }}
      />
      {error !== undefined && (
        <span class="field-error" id={`${id}-error`} data-testid="field-error">
          {error}
        </span>
      )}
    </>
  );
}

/** The number typed, or the text itself when it is not one (core names it in its message). */
function parse(text: string): number {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : (text as unknown as number);
}
