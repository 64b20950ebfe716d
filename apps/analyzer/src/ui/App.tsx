import type { Bucket, ModelBilling } from '@llm-monitor/core';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { AnalyzerClient, AnalyzerError } from '../client.js';
import { formatBytes, formatCompact, formatCost } from '../lib/format.js';
import { tooLarge } from '../worker/user-error.js';
import { type Draft, draftFromBilling, draftProblem, draftToOverride, overridesFrom } from '../lib/pricing-draft.js';
import { type Preset, type Range, autoBucket, browserTimeZone, presetRange, readParams, resolveRange, writeParams } from '../lib/range.js';
import { MAX_FILE_BYTES, type OpenResult, type OpenSource, type OverviewResult, type Progress, type UserError } from '../worker/protocol.js';
import { Controls } from './Controls.js';
import { ErrorBox } from './ErrorBox.js';
import { FileInfo } from './FileInfo.js';
import { ModelTable, Totals } from './Overview.js';
import { PricingEditor } from './PricingEditor.js';
import { RequestsView } from './RequestsView.js';
import { Timeline } from './Timeline.js';
import { UsageChart } from './UsageChart.js';

type Status =
  | { kind: 'idle' }
  | { kind: 'loading'; name: string; progress: Progress | null }
  | { kind: 'error'; error: UserError }
  | { kind: 'ready' };

const client = new AnalyzerClient();
const initial = readParams(location.search);

const tokensOf = (u: { inputTokens: number; outputTokens: number }) => u.inputTokens + u.outputTokens;
const costOf = (u: { cost: number }) => u.cost;

export function App() {
  const [status, setStatus] = useState<Status>({ kind: 'idle' });
  const [info, setInfo] = useState<OpenResult | null>(null);
  /** Counts opened files: tells a query or a table of one file from the next. */
  const [fileId, setFileId] = useState(0);
  const [range, setRange] = useState<Range>({ from: initial.from, to: initial.to });
  /** The preset last chosen (null after a custom range): another file opened gets the same preset of its own data. */
  const [preset, setPreset] = useState<Preset | null>(initial.from === null && initial.to === null ? 'all' : null);
  const presetRef = useRef(preset);
  presetRef.current = preset;
  const [tz, setTz] = useState<string | null>(initial.tz);
  const [bucket, setBucket] = useState<Bucket | null>(initial.bucket);
  const [drafts, setDrafts] = useState<Record<string, Draft>>({});
  /** The file's billing as drafts, per model: what the editor's Reset restores. */
  const [originals, setOriginals] = useState<Record<string, Draft>>({});
  /** The overview shown, and the query (as a key) it answers. */
  const [shown, setShown] = useState<{ key: string; result: OverviewResult } | null>(null);
  const [overviewError, setOverviewError] = useState<{ key: string; error: UserError } | null>(null);
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const timeZone = tz ?? browserTimeZone();

  const open = useCallback(async (source: OpenSource) => {
    const name = source.kind === 'file' ? source.file.name : source.url;
    if (source.kind === 'file' && source.file.size > MAX_FILE_BYTES) {
      // refused before anything is read; the worker checks the same limit for ?url= files
      setStatus({ kind: 'error', error: tooLarge(source.file.size) });
      return;
    }
    setStatus({ kind: 'loading', name, progress: null });
    setShown(null);
    setOverviewError(null);
    try {
      const result = await client.call({ type: 'open', source }, (progress) => setStatus({ kind: 'loading', name, progress }));
      const fromFile = Object.fromEntries(result.description.models.map((m) => [m.name, draftFromBilling(result.billing[m.name] ?? null, m.shape)]));
      setOriginals(fromFile);
      setDrafts(fromFile);
      if (presetRef.current) setRange(presetRange(presetRef.current, result.span));
      setInfo(result);
      setFileId((n) => n + 1);
      setStatus({ kind: 'ready' });
    } catch (error) {
      setInfo(null);
      setStatus({ kind: 'error', error: error instanceof AnalyzerError ? error.error : { kind: 'internal', title: 'Something went wrong', message: String(error), detail: '' } });
    }
  }, []);

  // ?url= opens a same-origin file on load
  useEffect(() => {
    if (initial.url) void open({ kind: 'url', url: initial.url });
  }, [open]);

  // keep the link in sync with the view
  useEffect(() => {
    const search = writeParams(location.search, { from: range.from, to: range.to, tz, bucket });
    if (search !== location.search) history.replaceState(null, '', `${location.pathname}${search}${location.hash}`);
  }, [range, tz, bucket]);

  const stored: Record<string, ModelBilling | null> = info?.billing ?? {};
  const invalidDraft = useMemo(() => Object.values(drafts).some((d) => draftProblem(d) !== null), [drafts]);
  const overrides = useMemo(() => overridesFrom(drafts, originals), [drafts, originals]);
  const resolved = info ? resolveRange(range, info.span) : null;
  const chosenAuto = resolved ? autoBucket(resolved.from, resolved.to) : 'day';
  const effectiveBucket = bucket ?? chosenAuto;

  const query = { from: range.from, to: range.to, bucket: effectiveBucket, timeZone, pricing: overrides };
  const queryKey = `${fileId}|${JSON.stringify(query)}`;
  const overview = shown?.result ?? null;
  const shownRange = overview && info ? resolveRange({ from: overview.summary.from, to: overview.summary.to }, info.span) : null;
  const computing = !invalidDraft && shown?.key !== queryKey && overviewError?.key !== queryKey;

  // recompute the overview whenever the range, zone, bucket or what-if pricing changes
  useEffect(() => {
    if (!info || invalidDraft) return;
    let live = true;
    const key = queryKey;
    const timer = setTimeout(() => {
      client
        .call({ type: 'overview', query })
        .then((result) => {
          if (!live) return;
          setShown({ key, result });
          setOverviewError(null);
        })
        .catch((error: unknown) => {
          if (!live || (error instanceof AnalyzerError && error.error.kind === 'superseded')) return;
          setOverviewError({ key, error: error instanceof AnalyzerError ? error.error : { kind: 'internal', title: 'The overview failed', message: String(error), detail: '' } });
        });
    }, shown ? 120 : 0); // edits are debounced, the first overview of a file is not
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // `query` is represented by `queryKey`
  }, [info, queryKey, invalidDraft]);

  // drag and drop anywhere on the page
  useEffect(() => {
    const over = (e: DragEvent) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      setDragging(true);
    };
    const leave = (e: DragEvent) => {
      if (e.relatedTarget === null) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      e.preventDefault();
      setDragging(false);
      const file = e.dataTransfer?.files[0];
      if (file) void open({ kind: 'file', file });
    };
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, [open]);

  const modelNames = useMemo(() => info?.description.models.map((m) => m.name) ?? [], [info]);
  const rejected: Record<string, string> =
    overviewError?.error.kind === 'invalid-input' && overviewError.error.model ? { [overviewError.error.model]: overviewError.error.message } : {};
  const downloadPricing = () => {
    if (!info) return;
    const pricing = Object.fromEntries(Object.entries(drafts).map(([name, draft]) => [name, draftToOverride(draft)]));
    const blob = new Blob([`${JSON.stringify(pricing, null, 2)}\n`], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `${info.fileName.replace(/\.[^.]*$/, '') || 'monitoring'}-pricing.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  const hasProgramTable = info ? !info.description.shapes.includes('S7') || info.programRuns.length > 0 : false;

  return (
    <div class={dragging ? 'app dragging' : 'app'}>
      <header class="top">
        <h1>
          llm-monitor <span>analyzer</span>
        </h1>
        {info && status.kind === 'ready' && (
          <span class="file-chip" title={info.fileName}>
            {info.fileName} · {formatBytes(info.size)}
          </span>
        )}
        <span class="spacer" />
        <span class="muted small offline">Offline: the file never leaves this page</span>
        <label class="button">
          Open file…
          <input
            ref={input}
            type="file"
            data-testid="file-input"
            accept=".db,.sqlite,.sqlite3,application/vnd.sqlite3,application/x-sqlite3,*/*"
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              if (file) void open({ kind: 'file', file });
              e.currentTarget.value = '';
            }}
          />
        </label>
      </header>

      {status.kind === 'loading' && <Loading name={status.name} progress={status.progress} />}
      {status.kind === 'error' && (
        <main class="narrow">
          <ErrorBox error={status.error} testId="open-error" />
          <DropZone onPick={() => input.current?.click()} />
        </main>
      )}
      {status.kind === 'idle' && (
        <main class="narrow">
          <DropZone onPick={() => input.current?.click()} />
        </main>
      )}

      {status.kind === 'ready' && info && (
        <main>
          <nav class="sections">
            <a href="#overview">Overview</a>
            <a href="#timeline">Timeline</a>
            <a href="#pricing">What-if pricing</a>
            <a href="#requests">Requests</a>
            <a href="#file">File</a>
          </nav>
          <Controls
            range={range}
            span={info.span}
            timeZone={timeZone}
            bucket={bucket}
            autoBucket={chosenAuto}
            onRange={(r) => {
              setPreset(null);
              setRange(r);
            }}
            onPreset={(p) => {
              setPreset(p);
              setRange(presetRange(p, info.span));
            }}
            onTimeZone={(z) => setTz(z === browserTimeZone() ? null : z)}
            onBucket={setBucket}
          />
          {info.walPatched && (
            <p class="notice slim" data-testid="wal-banner">
              WAL-mode file: read from a patched in-memory copy; a separate <code>-wal</code> file is not included. <a href="#file">Details</a>
            </p>
          )}
          <section id="overview" class={computing ? 'computing' : ''} data-testid="overview" data-compute-ms={overview?.ms ?? ''} data-ready={overview && !computing && !invalidDraft ? 'true' : 'false'}>
            <h2>
              Overview {computing && <span class="spinner" aria-label="computing" />}
              {Object.keys(overrides).length > 0 && <span class="badge edit">with what-if pricing</span>}
            </h2>
            {overviewError && <ErrorBox error={overviewError.error} testId="overview-error" />}
            {overview && (
              <>
                <Totals summary={overview.summary} programSeconds={overview.programSeconds} hasProgramTable={hasProgramTable} />
                <div class="charts">
                  {/* the x axis spans the window this overview answers, not a range still being computed */}
                  <UsageChart from={shownRange?.from ?? overview.series.from} to={shownRange?.to ?? overview.series.to} title="Tokens (input + output)" testId="token-chart" series={overview.series} models={modelNames} value={tokensOf} format={formatCompact} axisFormat={formatCompact} timeZone={timeZone} />
                  <UsageChart from={shownRange?.from ?? overview.series.from} to={shownRange?.to ?? overview.series.to} title="Cost" testId="cost-chart" series={overview.series} models={modelNames} value={costOf} format={formatCost} axisFormat={formatCompact} timeZone={timeZone} />
                </div>
                <ModelTable summary={overview.summary} order={modelNames} overridden={new Set(Object.keys(overrides))} />
              </>
            )}
          </section>
          <section id="timeline">
            <h2>Runtime timeline</h2>
            {resolved ? (
              <Timeline
                from={resolved.from}
                to={resolved.to}
                timeZone={timeZone}
                programRuns={info.programRuns}
                models={modelNames.map((name) => ({ name, runs: info.modelRuns[name] ?? [] }))}
                hasProgramTable={hasProgramTable}
              />
            ) : (
              <p class="empty">No activity recorded.</p>
            )}
          </section>
          <section id="pricing">
            <h2>What-if pricing</h2>
            <PricingEditor
              models={info.description.models}
              stored={stored}
              originals={originals}
              drafts={drafts}
              onChange={(model, draft) => setDrafts((d) => ({ ...d, [model]: draft }))}
              onResetAll={() => setDrafts(originals)}
              onDownload={downloadPricing}
              rejected={rejected}
            />
          </section>
          <section id="requests">
            <h2>Requests</h2>
            <RequestsView client={client} fileKey={String(fileId)} models={modelNames} range={range} timeZone={timeZone} />
          </section>
          <section id="file">
            <h2>File</h2>
            <FileInfo info={info} />
          </section>
        </main>
      )}
      {dragging && <div class="drop-overlay">Drop the monitoring database to open it</div>}
    </div>
  );
}

function DropZone({ onPick }: { onPick(): void }) {
  return (
    <div class="dropzone" data-testid="dropzone">
      <h2>Open a monitoring database</h2>
      <p>
        Drop <code>monitoring.db</code> here, or{' '}
        <button type="button" class="link" onClick={onPick}>
          choose a file
        </button>
        .
      </p>
      <p class="muted">
        Files written by llm-monitor or by any LLM-Manager version (seed layout to the v2.6+ normalized WAL files) open here. Everything is computed in this
        browser tab; nothing is uploaded. Up to {formatBytes(MAX_FILE_BYTES)}.
      </p>
      <p class="muted small">
        Link parameters: <code>?url=</code> a file on this site, <code>?from=</code>/<code>?to=</code> (epoch seconds or ISO dates), <code>?tz=</code> an IANA
        zone, <code>?bucket=</code> hour, day, week or month.
      </p>
    </div>
  );
}

const PHASES: Record<Progress['phase'], string> = {
  reading: 'Reading the file',
  starting: 'Starting SQLite',
  opening: 'Opening the database',
  analysing: 'Computing usage and cost',
};

function Loading({ name, progress }: { name: string; progress: Progress | null }) {
  const detail =
    progress?.phase === 'reading' && progress.total > 0 ? ` · ${formatBytes(progress.loaded)} of ${formatBytes(progress.total)}` : progress ? '' : '';
  return (
    <main class="narrow">
      <div class="loading" data-testid="loading">
        <h2>Opening {name}</h2>
        <progress data-testid="open-progress" max={1} value={progress?.fraction ?? 0} />
        <p class="muted">
          {progress ? PHASES[progress.phase] : 'Starting'}
          {detail}
        </p>
      </div>
    </main>
  );
}

