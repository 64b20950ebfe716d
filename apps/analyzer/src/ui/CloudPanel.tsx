import type { Compared } from '@llm-monitor/core';
import type { CloudComparison } from '@llm-monitor/core/cloud';
import { useState } from 'preact/hooks';
import { SUGGESTED_CLOUD_MODELS } from '../lib/cloud-models.js';
import { NoteList, Notes, Part, TableWrap, currencyLabel, fig, moneyShow, showTokens } from './figures.js';

/**
 * What the same requests would cost at cloud models of the bundled price catalog: a short list to tick,
 * any other `provider:model` to add (checked by core's `cloudModel` in the worker; its error shown as
 * given), and the USD value of the file's currency for the saving.
 */

interface Props {
  cloud: Compared<CloudComparison> | null;
  errors: { ref: string; code: string; message: string }[];
  refs: string[];
  usdPerUnit: number | null;
  onRefs(refs: string[]): void;
  onUsdPerUnit(rate: number | null): void;
  currency: string | undefined;
  deltas: boolean;
  busy: boolean;
}

export function CloudPanel({ cloud, errors, refs, usdPerUnit, onRefs, onUsdPerUnit, currency, deltas, busy }: Props) {
  const [other, setOther] = useState('');
  const [rate, setRate] = useState(usdPerUnit === null ? '' : String(usdPerUnit));
  const rateValue = rate.trim() === '' ? null : Number(rate);
  const rateInvalid = rate.trim() !== '' && !(/^\d+(\.\d+)?$/.test(rate.trim()) && rateValue! > 0);
  const toggle = (ref: string, on: boolean) => onRefs(on ? [...refs, ref] : refs.filter((r) => r !== ref));
  const custom = refs.filter((r) => !(SUGGESTED_CLOUD_MODELS as readonly string[]).includes(r));
  const c = currencyLabel(currency);
  const add = () => {
    const ref = other.trim();
    if (ref === '' || refs.includes(ref)) return;
    onRefs([...refs, ref]);
    setOther('');
  };
  return (
    <Part id="insights-cloud" title="Compared with cloud prices">
      <p class="muted small">
        What the same requests (input, output and cache-read tokens) would cost at a cloud API, priced in USD with the price catalog bundled in this page (nothing is
        fetched). The catalog loads when you pick a model.
      </p>
      <fieldset class="cloud-picks">
        <legend>Cloud models</legend>
        {SUGGESTED_CLOUD_MODELS.map((ref) => (
          <label key={ref} class="check">
            <input type="checkbox" data-testid="cloud-pick" value={ref} checked={refs.includes(ref)} onChange={(e) => toggle(ref, e.currentTarget.checked)} /> {ref}
          </label>
        ))}
        {custom.map((ref) => (
          <label key={ref} class="check">
            <input type="checkbox" data-testid="cloud-pick" value={ref} checked onChange={() => toggle(ref, false)} /> {ref}
          </label>
        ))}
      </fieldset>
      <form
        class="toolbar cloud-form"
        onSubmit={(e) => {
          e.preventDefault();
          add();
        }}
      >
        <label class="field">
          Other model (provider:model)
          <input type="text" data-testid="cloud-other" value={other} placeholder="e.g. mistral:mistral-small-latest" onInput={(e) => setOther(e.currentTarget.value)} />
        </label>
        <button type="submit" data-testid="cloud-add" disabled={other.trim() === ''}>
          Add
        </button>
        <label class="field">
          1 {c} is worth (USD)
          <input
            type="text"
            inputMode="decimal"
            data-testid="usd-rate"
            value={rate}
            placeholder="e.g. 1 or 0.14"
            aria-invalid={rateInvalid ? 'true' : 'false'}
            aria-describedby="usd-rate-help"
            onInput={(e) => {
              const text = e.currentTarget.value;
              setRate(text);
              const value = text.trim() === '' ? null : Number(text);
              if (value === null) onUsdPerUnit(null);
              else if (/^\d+(\.\d+)?$/.test(text.trim()) && value > 0) onUsdPerUnit(value);
            }}
          />
        </label>
        <span id="usd-rate-help" class={rateInvalid ? 'small warn' : 'small muted'}>
          {rateInvalid ? 'A number above 0, e.g. 1 for USD or 0.14 for CNY.' : 'Without it the saving is not known (the file stores prices without a currency).'}
        </span>
      </form>
      {errors.length > 0 && (
        <div class="error slim" role="alert" data-testid="cloud-errors">
          {errors.map((e) => (
            <p key={e.ref} data-testid="cloud-error" data-ref={e.ref}>
              <strong>{e.ref}</strong>: {e.message} <code>{e.code}</code>{' '}
              <button type="button" class="link" onClick={() => toggle(e.ref, false)}>
                Remove
              </button>
            </p>
          ))}
        </div>
      )}
      {refs.length > 0 && busy && !cloud && <p class="muted small">Pricing…</p>}
      {cloud?.targets.map((target) => {
        const notes = new Notes();
        const rows = [...target.models.map((m) => ({ ...m, testId: 'cloud-row' })), { ...target.total, name: 'Total', testId: 'cloud-total' }];
        const local = moneyShow(currency);
        const usd = moneyShow(currency, 'USD');
        const m = target.model;
        return (
          <div key={m.ref} class="cloud-target" data-testid="cloud-target" data-ref={m.ref}>
            <h4>
              {m.providerName} {m.modelName} <span class="muted">({m.ref})</span>
            </h4>
            <p class="muted small" data-testid="cloud-catalog">
              Priced by {cloud.catalog.name} {cloud.catalog.version} at each request’s time
              {cloud.usdPerUnit === null ? '' : `; 1 ${c} = ${cloud.usdPerUnit} USD`}. Saving = cloud cost − cost here; below 0, the cloud would have cost less.
            </p>
            <TableWrap label={`Cloud comparison, ${m.ref}`}>
              <table class="data insight-table" data-testid="cloud-table">
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col" class="num">Requests</th>
                    <th scope="col" class="num">Cost here ({c})</th>
                    <th scope="col" class="num">Cost here (USD)</th>
                    <th scope="col" class="num">Cloud (USD)</th>
                    <th scope="col" class="num">Saving (USD)</th>
                    <th scope="col" class="num">Over context window</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.name} data-testid={r.testId} data-model={r.name} class={r.testId === 'cloud-total' ? 'total' : ''}>
                      <th scope="row" class="name" title={r.name}>
                        {r.name}
                      </th>
                      <td class="num">{fig(r.requests, showTokens, notes, { testId: 'cloud-requests' })}</td>
                      <td class="num">{fig(r.localCost, local, notes, { testId: 'cloud-local' })}</td>
                      <td class="num">{fig(r.localCostUsd, usd, notes, { testId: 'cloud-local-usd' })}</td>
                      <td class="num">{fig(r.cloudCost, usd, notes, { testId: 'cloud-cost', deltas })}</td>
                      <td class="num">{fig(r.saving, usd, notes, { testId: 'cloud-saving', deltas })}</td>
                      <td class="num">{fig(r.overContextWindow, showTokens, notes, { testId: 'cloud-over' })}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
            <NoteList notes={notes} />
          </div>
        );
      })}
    </Part>
  );
}
