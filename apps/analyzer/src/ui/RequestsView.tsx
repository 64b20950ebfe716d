import { memo } from 'preact/compat';
import { useEffect, useRef, useState } from 'preact/hooks';
import { AnalyzerError, type AnalyzerClient } from '../client.js';
import { formatDateTime, formatNumber } from '@llm-monitor/core';
import type { Range } from '../lib/range.js';
import type { RequestsQuery, RequestsResult, UserError } from '../worker/protocol.js';
import { download } from './download.js';
import { ErrorBox } from './ErrorBox.js';
import { useNearScreen } from './near-screen.js';

interface Props {
  client: AnalyzerClient;
  /** Changes when another file is opened (the view starts over). */
  fileKey: string;
  /** Changes when the same file has new data (the view is kept and read again). */
  dataKey: number;
  models: readonly string[];
  range: Range;
  timeZone: string;
}

const PAGE_SIZE = 50;

const COLUMNS: readonly { label: string; numeric: boolean }[] = [
  { label: 'Model', numeric: false },
  { label: 'Input tokens', numeric: true },
  { label: 'Output tokens', numeric: true },
  { label: 'Cache hits', numeric: true },
  { label: 'Prompt processed', numeric: true },
];

/**
 * Every request in the range in time order, a page at a time, filtered by model in the worker, which
 * reads only the page's part of the file. Nothing is read until this view scrolls into sight.
 */
export const RequestsView = memo(function RequestsView({ client, fileKey, dataKey, models, range, timeZone }: Props) {
  const root = useRef<HTMLDivElement>(null);
  const visible = useNearScreen(root);
  const [model, setModel] = useState<string | null>(null);
  const [descending, setDescending] = useState(true);
  const [page, setPage] = useState(0);
  const [result, setResult] = useState<RequestsResult | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [exporting, setExporting] = useState<string | null>(null);

  useEffect(() => {
    setModel(null);
    setPage(0);
    setResult(null);
  }, [fileKey]);
  useEffect(() => setPage(0), [model, descending, range.from, range.to]);

  const query: RequestsQuery = { from: range.from, to: range.to, model, descending, page, pageSize: PAGE_SIZE };
  const queryKey = JSON.stringify(query);
  useEffect(() => {
    if (!visible) return;
    let live = true;
    setLoading(true);
    client
      .call({ type: 'requests', query })
      .then((r) => {
        if (!live) return;
        setResult(r);
        setError(null);
        setLoading(false);
      })
      .catch((e: unknown) => {
        if (!live || (e instanceof AnalyzerError && e.error.kind === 'superseded')) return;
        setError(e instanceof AnalyzerError ? e.error : { kind: 'internal', title: 'Requests could not be read', message: String(e), detail: '' });
        setLoading(false);
      });
    return () => {
      live = false;
    };
    // `query` is represented by `queryKey`
  }, [queryKey, fileKey, dataKey, visible]);

  const exportAs = async (format: 'csv' | 'json') => {
    setExporting(format);
    try {
      const { blob, fileName } = await client.call({ type: 'export-requests', query, format });
      download(blob, fileName);
    } catch (e) {
      setError(e instanceof AnalyzerError ? e.error : { kind: 'internal', title: 'Export failed', message: String(e), detail: '' });
    } finally {
      setExporting(null);
    }
  };

  const pages = result ? Math.max(1, Math.ceil(result.total / PAGE_SIZE)) : 1;
  const shownPage = result?.page ?? 0;

  return (
    <div class="requests" ref={root}>
      <div class="toolbar">
        <label>
          Model{' '}
          <select data-testid="requests-model" value={model ?? ''} onChange={(e) => setModel(e.currentTarget.value || null)}>
            <option value="">All models</option>
            {models.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <span class="muted" data-testid="requests-total" data-value={result?.total ?? ''}>
          {result ? `${formatNumber(result.total)} requests in range` : 'Reading requests…'}
          {loading && result ? ' · updating…' : ''}
        </span>
        <span class="spacer" />
        <button type="button" onClick={() => exportAs('csv')} disabled={!result || exporting !== null} data-testid="export-csv">
          {exporting === 'csv' ? 'Exporting…' : 'Export CSV'}
        </button>
        <button type="button" onClick={() => exportAs('json')} disabled={!result || exporting !== null} data-testid="export-json">
          {exporting === 'json' ? 'Exporting…' : 'Export JSON'}
        </button>
      </div>
      {error && <ErrorBox error={error} testId="requests-error" />}
      <div class="table-wrap" role="region" aria-label="Requests" tabIndex={0}>
        <table class="data" data-testid="requests-table">
          <thead>
            <tr>
              <th scope="col" aria-sort={descending ? 'descending' : 'ascending'}>
                <button type="button" class="sort" onClick={() => setDescending((d) => !d)} data-sort="timestamp">
                  Time {descending ? '▼ newest first' : '▲ oldest first'}
                </button>
              </th>
              {COLUMNS.map((c) => (
                <th key={c.label} scope="col" class={c.numeric ? 'num' : ''}>
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {result?.rows.map((r) => (
              <tr key={`${r.model}\u0000${r.id}`} data-testid="request-row" data-model={r.model}>
                <td data-value={r.timestamp}>{formatDateTime(r.timestamp, timeZone, 'second')}</td>
                <td class="name">{r.model}</td>
                <td class="num" data-value={r.inputTokens}>
                  {formatNumber(r.inputTokens)}
                </td>
                <td class="num" data-value={r.outputTokens}>
                  {formatNumber(r.outputTokens)}
                </td>
                <td class="num">{formatNumber(r.cacheN)}</td>
                <td class="num">{formatNumber(r.promptN)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="pager">
        <button type="button" disabled={shownPage <= 0} onClick={() => setPage(0)}>
          « First
        </button>
        <button type="button" disabled={shownPage <= 0} onClick={() => setPage(shownPage - 1)} data-testid="page-prev">
          ‹ Previous
        </button>
        <span data-testid="page-info">
          Page {formatNumber(shownPage + 1)} of {formatNumber(pages)}
        </span>
        <button type="button" disabled={shownPage >= pages - 1} onClick={() => setPage(shownPage + 1)} data-testid="page-next">
          Next ›
        </button>
        <button type="button" disabled={shownPage >= pages - 1} onClick={() => setPage(pages - 1)}>
          Last »
        </button>
      </div>
      <p class="muted small">Export writes every page of the current view (range, model filter and order), not only the page shown. Times in exports are epoch seconds and UTC.</p>
    </div>
  );
});
