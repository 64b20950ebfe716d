import { type Bucket, type BucketUsage, type Description, type ModelBilling, type PricingOverrides, costDecimals, formatCost, formatDateTime, formatNumber, localTimeZone } from '@llm-monitor/core';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { AnalyzerClient, AnalyzerError } from '../client.js';
import { formatBytes, formatCompact } from '../lib/format.js';
import { type Draft, applyOverride, draftFromBilling, draftProblems, draftToOverride, overridesFrom, sameDraft, scenarioProblems } from '../lib/pricing-draft.js';
import { type Preset, type Range, autoBucket, presetRange, readParams, resolveRange, writeParams } from '../lib/range.js';
import { MAX_FILE_BYTES, type OpenResult, type OpenSource, type OverviewResult, type Progress, type UserError } from '../worker/protocol.js';
import { tooLarge } from '../worker/user-error.js';
import { modelColor } from './colors.js';
import { Controls } from './Controls.js';
import { download } from './download.js';
import { ErrorBox } from './ErrorBox.js';
import { FileInfo } from './FileInfo.js';
import { Insights } from './Insights.js';
import { ModelTable, SummaryProblems, Totals, isEmpty } from './Overview.js';
import { PricingEditor } from './PricingEditor.js';
import { RequestsView } from './RequestsView.js';
import { type SchemeChoice, useScheme } from './scheme.js';
import { Timeline } from './Timeline.js';
import { UsageChart } from './UsageChart.js';

const client = new AnalyzerClient();
const initial = readParams(location.search);

const tokensOf = (u: BucketUsage) => u.inputTokens + u.outputTokens;
const costOf = (u: BucketUsage) => u.cost;

function asUserError(error: unknown, title: string): UserError {
  return error instanceof AnalyzerError ? error.error : { kind: 'internal', title, message: String(error), detail: '' };
}

/** The file's billing as drafts, per model. */
function draftsOf(info: OpenResult): Record<string, Draft> {
  return Object.fromEntries(info.models.map((m) => [m.name, draftFromBilling(info.billing[m.name] ?? null, m.shape)]));
}

export function App() {
  const { choice, scheme, choose } = useScheme();
  /** A file being opened (the page keeps showing the previous one meanwhile). */
  const [loading, setLoading] = useState<{ name: string; progress: Progress | null } | null>(null);
  /** The last open failed: shown above the analysis, which stays. */
  const [openError, setOpenError] = useState<UserError | null>(null);
  const [info, setInfo] = useState<OpenResult | null>(null);
  /** What the file is, read once the overview has been asked for (the File section). */
  const [description, setDescription] = useState<Description | null>(null);
  /** Counts opened files: tells a query or a table of one file from the next. */
  const [fileId, setFileId] = useState(0);
  /** Counts snapshots of the same file pushed by `llm-monitor serve`. */
  const [dataVersion, setDataVersion] = useState(0);
  const [liveAt, setLiveAt] = useState<number | null>(null);
  const [range, setRange] = useState<Range>({ from: initial.from, to: initial.to });
  /** The preset last chosen (null after a custom range): a new file or snapshot gets the same preset of its own data. */
  const [preset, setPreset] = useState<Preset | null>(initial.from === null && initial.to === null ? 'all' : null);
  const presetRef = useRef(preset);
  presetRef.current = preset;
  const [tz, setTz] = useState<string | null>(initial.tz);
  const [bucket, setBucket] = useState<Bucket | null>(initial.bucket);
  const [currency, setCurrency] = useState<string | null>(initial.currency);
  const [drafts, setDrafts] = useState<Record<string, Draft>>({});
  /** The file's billing as drafts, per model: what the editor's Reset restores. */
  const [originals, setOriginals] = useState<Record<string, Draft>>({});
  const edits = useRef({ drafts, originals });
  edits.current = { drafts, originals };
  /** What the link asked for that could not be used, in words. */
  const [linkProblems, setLinkProblems] = useState<string[]>(initial.problems);
  /** The link's scenario, applied to the first file opened. */
  const linkScenario = useRef<unknown>(initial.pricing);
  const [importProblems, setImportProblems] = useState<string[]>([]);
  /** The overview shown, and the query (as a key) it answers. */
  const [shown, setShown] = useState<{ key: string; result: OverviewResult; count: number } | null>(null);
  const [overviewError, setOverviewError] = useState<{ key: string; error: UserError } | null>(null);
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const timeZone = tz ?? localTimeZone();

  const open = useCallback(async (source: OpenSource, live = false) => {
    const name = source.kind === 'file' ? source.file.name : source.url;
    if (source.kind === 'file' && source.file.size > MAX_FILE_BYTES) {
      // refused before anything is read; the worker checks the same limit for ?url= files
      setOpenError({ ...tooLarge(source.file.size), file: source.file.name });
      return;
    }
    if (!live) setLoading({ name, progress: null });
    try {
      const result = await client.call({ type: 'open', source }, live ? undefined : (progress) => setLoading({ name, progress }));
      const fresh = draftsOf(result);
      const models = result.models.map((m) => m.name);
      let next = fresh;
      if (live) {
        // a new snapshot of the same file: what-if edits stay, the rest follows the file
        const { drafts: before, originals: stored } = edits.current;
        next = Object.fromEntries(models.map((m) => [m, before[m] && stored[m] && !sameDraft(before[m]!, stored[m]!) ? before[m]! : fresh[m]!]));
      } else if (linkScenario.current !== null) {
        const problems = scenarioProblems(linkScenario.current, models);
        if (problems.length > 0) setLinkProblems((p) => [...p, ...problems.map((x) => `The link's what-if pricing was not applied: ${x.message}`)]);
        else next = applyScenario(fresh, linkScenario.current as PricingOverrides);
      }
      linkScenario.current = null;
      setOriginals(fresh);
      setDrafts(next);
      if (presetRef.current) setRange(presetRange(presetRef.current, result.span));
      setInfo(result);
      if (!live) setDescription(null);
      setOpenError(null);
      if (live) {
        setDataVersion((n) => n + 1);
        setLiveAt(Date.now());
      } else {
        setFileId((n) => n + 1);
        setHidden(new Set());
        setImportProblems([]);
      }
    } catch (error) {
      const userError = asUserError(error, 'Something went wrong');
      setOpenError({ ...userError, file: userError.file ?? name });
    } finally {
      if (!live) setLoading(null);
    }
  }, []);

  // ?url= opens a same-origin file on load
  useEffect(() => {
    if (initial.url) void open({ kind: 'url', url: initial.url });
  }, [open]);

  // `llm-monitor serve` announces new snapshots of its database; each is read in place, keeping the view
  const liveEvents = info?.liveEvents ?? null;
  useEffect(() => {
    if (!liveEvents || !initial.url) return;
    const url = initial.url;
    let chain = Promise.resolve();
    let queued = false;
    const reload = () => {
      if (queued) return; // one reload after the current one covers every change since
      queued = true;
      chain = chain.then(() => {
        queued = false;
        return open({ kind: 'url', url }, true);
      });
    };
    const events = new EventSource(liveEvents);
    events.addEventListener('change', reload);
    // after a lost connection (the server restarted), changes may have been missed
    let connections = 0;
    events.addEventListener('open', () => {
      if (connections++ > 0) reload();
    });
    return () => events.close();
  }, [liveEvents, open]);

  const problemCount = useMemo(() => Object.values(drafts).reduce((n, d) => n + draftProblems(d).length, 0), [drafts]);
  const invalidDraft = problemCount > 0;
  const overrides = useMemo(() => overridesFrom(drafts, originals), [drafts, originals]);
  const scenario = Object.keys(overrides).length > 0;
  /** The scenario of the link: the last valid one while a field is being corrected. */
  const [linkedScenario, setLinkedScenario] = useState<PricingOverrides | null>(null);
  useEffect(() => {
    if (info && !invalidDraft) setLinkedScenario(scenario ? overrides : null);
  }, [info, overrides, invalidDraft, scenario]);

  // keep the link in sync with the view (before a file is open, the link's own scenario stays in it)
  useEffect(() => {
    const pricing = info ? linkedScenario : initial.pricing;
    const search = writeParams(location.search, { from: range.from, to: range.to, tz, bucket, currency, pricing });
    if (search !== location.search) history.replaceState(null, '', `${location.pathname}${search}${location.hash}`);
  }, [range, tz, bucket, currency, linkedScenario, info]);

  const resolved = info ? resolveRange(range, info.span) : null;
  const chosenAuto = resolved ? autoBucket(resolved.from, resolved.to) : 'day';
  const effectiveBucket = bucket ?? chosenAuto;

  const query = { from: range.from, to: range.to, bucket: effectiveBucket, timeZone, pricing: overrides };
  const queryKey = `${fileId}.${dataVersion}|${JSON.stringify(query)}`;
  const overview = shown?.result ?? null;
  const shownRange = overview && info ? resolveRange({ from: overview.summary.from, to: overview.summary.to }, info.span) : null;
  const computing = info !== null && !invalidDraft && shown?.key !== queryKey && overviewError?.key !== queryKey;

  // recompute the overview whenever the range, zone, bucket, what-if pricing or data changes; typing in a
  // price field is debounced, a choice in the controls is not
  const asked = useRef({ view: '', pricing: '' });
  useEffect(() => {
    if (!info || invalidDraft) return;
    let live = true;
    const key = queryKey;
    const view = `${fileId}.${dataVersion}|${JSON.stringify({ ...query, pricing: null })}`;
    const pricing = JSON.stringify(query.pricing);
    const typing = shown !== null && asked.current.view === view && asked.current.pricing !== pricing;
    asked.current = { view, pricing };
    const timer = setTimeout(
      () => {
        client
          .call({ type: 'overview', query })
          .then((result) => {
            if (!live) return;
            setShown((previous) => ({ key, result, count: (previous?.count ?? 0) + 1 }));
            setOverviewError(null);
          })
          .catch((error: unknown) => {
            if (!live || (error instanceof AnalyzerError && error.error.kind === 'superseded')) return;
            setOverviewError({ key, error: asUserError(error, 'The overview failed') });
          });
      },
      typing ? 80 : 0,
    );
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // `query` is represented by `queryKey`
  }, [info, queryKey, invalidDraft]);

  // what the file is (the File section), read once the overview is shown: the worker answers in order
  const described = useRef('');
  useEffect(() => {
    const key = `${fileId}.${dataVersion}`;
    if (!info || !shown?.key.startsWith(`${key}|`) || described.current === key) return;
    described.current = key;
    client.call({ type: 'describe' }).then(setDescription, () => undefined);
  }, [info, shown, fileId, dataVersion]);

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

  // the sticky header and controls' heights, so that a jump to a section shows its heading below them
  const header = useRef<HTMLElement>(null);
  const sticky = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const measure = () => {
      const height = (el: HTMLElement | null) => (el && getComputedStyle(el).position === 'sticky' ? el.getBoundingClientRect().height : 0);
      const root = document.documentElement.style;
      root.setProperty('--header-height', `${height(header.current)}px`);
      root.setProperty('--sticky-offset', `${height(header.current) + height(sticky.current)}px`);
    };
    const observer = new ResizeObserver(measure);
    for (const el of [header.current, sticky.current]) if (el) observer.observe(el);
    measure();
    return () => observer.disconnect();
  }, [info !== null]);

  const modelNames = useMemo(() => info?.models.map((m) => m.name) ?? [], [info]);
  const colors = useMemo(() => Object.fromEntries(modelNames.map((m, i) => [m, modelColor(i)])), [modelNames]);
  const rejected: Record<string, string> =
    overviewError?.error.kind === 'invalid-input' && overviewError.error.model ? { [overviewError.error.model]: overviewError.error.message } : {};
  const money = currency ? { currency } : {};
  const costFormat = useMemo(() => {
    const decimals = costDecimals(overview?.series.buckets.map((b) => b.total.cost) ?? []);
    return (n: number) => formatCost(n, { decimals, ...money });
  }, [overview, currency]);
  const tokenFormat = useCallback((n: number) => formatNumber(n), []);
  const toggle = useCallback((m: string) => setHidden((h) => (h.has(m) ? new Set([...h].filter((x) => x !== m)) : new Set([...h, m]))), []);

  const span = info?.span ?? null;
  const onRange = useCallback((r: Range) => {
    setPreset(null);
    setRange(r);
  }, []);
  const onPreset = useCallback(
    (p: Preset) => {
      setPreset(p);
      setRange(presetRange(p, span));
    },
    [span],
  );
  const onTimeZone = useCallback((z: string) => setTz(z === localTimeZone() ? null : z), []);
  const setDraft = useCallback((model: string, draft: Draft) => setDrafts((d) => ({ ...d, [model]: draft })), []);
  const resetAll = useCallback(() => setDrafts(edits.current.originals), []);
  const timelineModels = useMemo(
    () => modelNames.map((name) => ({ name, runs: info?.modelRuns[name] ?? [], color: colors[name]! })),
    [info, modelNames, colors],
  );

  const exportScenario = () => {
    if (!info) return;
    const pricing = Object.fromEntries(Object.entries(drafts).map(([name, draft]) => [name, draftToOverride(draft)]));
    download(new Blob([`${JSON.stringify(pricing, null, 2)}\n`], { type: 'application/json' }), `${info.fileName.replace(/\.[^.]*$/, '') || 'monitoring'}-pricing.json`);
  };
  // the overview counts as busy from the moment a scenario file is chosen until its prices are laid over
  // the drafts (which starts the computation): its figures are of the old prices meanwhile
  const [importing, setImporting] = useState(false);
  const importScenario = async (file: File) => {
    let parsed: unknown;
    setImporting(true);
    try {
      parsed = JSON.parse(await file.text());
    } catch (error) {
      setImportProblems([`${file.name} is not JSON: ${(error as Error).message}`]);
      return;
    } finally {
      setImporting(false);
    }
    const problems = scenarioProblems(parsed, modelNames);
    setImportProblems(problems.map((p) => `${file.name}: ${p.message}`));
    if (problems.length === 0) setDrafts(applyScenario(originals, parsed as PricingOverrides));
  };

  const chartProps = overview && {
    from: shownRange?.from ?? overview.series.from,
    to: shownRange?.to ?? overview.series.to,
    series: overview.series,
    models: modelNames,
    colors,
    hidden,
    onToggle: toggle,
    axisFormat: formatCompact,
    timeZone,
    scheme,
  };

  const hasProgramTable = info ? !info.models.some((m) => m.shape === 'S7') || info.programRuns.length > 0 : false;
  const busy = computing || importing || loading !== null;

  return (
    <div class={dragging ? 'app dragging' : 'app'}>
      <header class="top" ref={header}>
        <h1>
          llm-monitor <span>analyzer</span>
        </h1>
        {info && (
          <span class="file-chip" title={info.fileName} data-testid="file-chip">
            {info.fileName} · {formatBytes(info.size)}
          </span>
        )}
        {info?.liveEvents && (
          <span class="live" data-testid="live" data-version={dataVersion}>
            live{liveAt !== null && ` · updated ${formatDateTime(liveAt / 1000, timeZone, 'second').slice(11)}`}
          </span>
        )}
        <span class="spacer" />
        <span class="small offline muted">Offline: the file never leaves this page</span>
        <select aria-label="Colour scheme" data-testid="scheme" value={choice} onChange={(e) => choose(e.currentTarget.value as SchemeChoice)}>
          <option value="auto">Scheme: system</option>
          <option value="light">Scheme: light</option>
          <option value="dark">Scheme: dark</option>
        </select>
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

      {!info && (
        <main class="narrow">
          {linkProblems.length > 0 && <LinkProblems problems={linkProblems} />}
          {loading && <Loading name={loading.name} progress={loading.progress} />}
          {openError && <ErrorBox error={openError} testId="open-error" />}
          {!loading && <DropZone onPick={() => input.current?.click()} />}
        </main>
      )}

      {info && (
        <main>
          <div class="sticky" ref={sticky}>
            <nav class="sections" aria-label="Sections">
              <a href="#overview">Overview</a>
              <a href="#insights">Insights</a>
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
              currency={currency}
              onRange={onRange}
              onPreset={onPreset}
              onTimeZone={onTimeZone}
              onBucket={setBucket}
              onCurrency={setCurrency}
            />
          </div>
          {loading && <Loading name={loading.name} progress={loading.progress} />}
          {openError && (
            <ErrorBox
              error={openError}
              testId="open-error"
              note={`Still showing ${info.fileName}${scenario ? ' with your what-if edits' : ''}.`}
            />
          )}
          {linkProblems.length > 0 && <LinkProblems problems={linkProblems} />}
          {info.walPatched && (
            <p class="notice slim" data-testid="wal-banner">
              WAL-mode file: read from a patched in-memory copy; a separate <code>-wal</code> file is not included. <a href="#file">Details</a>
            </p>
          )}
          <section
            id="overview"
            class="panel"
            aria-labelledby="overview-heading"
            aria-busy={busy ? 'true' : 'false'}
            data-testid="overview"
            data-compute-ms={overview?.ms ?? ''}
            data-shown={shown?.count ?? 0}
            data-ready={overview && !busy && !invalidDraft ? 'true' : 'false'}
          >
            <h2 id="overview-heading">
              Overview {busy && <span class="spinner" role="status" aria-label="computing" />}
              {scenario && <span class="badge edit">with what-if pricing</span>}
            </h2>
            {invalidDraft && (
              <p class="notice slim" data-testid="scenario-invalid">
                {problemCount === 1 ? 'A what-if field needs' : `${problemCount} what-if fields need`} correcting (see <a href="#pricing">What-if pricing</a>); the
                figures are for the last valid prices.
              </p>
            )}
            {overviewError && <ErrorBox error={overviewError.error} testId="overview-error" />}
            {overview && (
              <>
                <SummaryProblems problems={overview.summary.problems} />
                <Totals overview={overview} {...money} hasProgramTable={hasProgramTable} />
                {isEmpty(overview.summary) ? (
                  <NoData
                    span={info.span}
                    timeZone={timeZone}
                    onAll={() => {
                      setPreset('all');
                      setRange(presetRange('all', info.span));
                    }}
                  />
                ) : (
                  <>
                    <div class="charts">
                      {/* the x axis spans the window this overview answers, not a range still being computed */}
                      <UsageChart {...chartProps!} title="Tokens (input + output)" unit="tokens" axis="tokens" testId="token-chart" baseline={null} value={tokensOf} format={tokenFormat} />
                      <UsageChart
                        {...chartProps!}
                        title="Cost"
                        unit={currency ?? "the file's currency"}
                        axis={`cost (${currency ?? "file's currency"})`}
                        testId="cost-chart"
                        baseline={overview.baseline?.series ?? null}
                        value={costOf}
                        format={costFormat}
                      />
                    </div>
                    <ModelTable overview={overview} colors={colors} overridden={new Set(Object.keys(overrides))} {...money} />
                  </>
                )}
              </>
            )}
          </section>
          <Insights
            client={client}
            dataKey={`${fileId}.${dataVersion}`}
            from={range.from}
            to={range.to}
            timeZone={timeZone}
            pricing={overrides}
            ready={!invalidDraft && shown?.key === queryKey}
            models={modelNames}
            currency={currency ?? undefined}
            scenario={scenario}
          />
          <section id="timeline" class="panel" aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">Runtime timeline</h2>
            {resolved ? (
              <Timeline
                from={resolved.from}
                to={resolved.to}
                timeZone={timeZone}
                programRuns={info.programRuns}
                models={timelineModels}
                hasProgramTable={hasProgramTable}
              />
            ) : (
              <p class="empty">No activity recorded.</p>
            )}
          </section>
          <section id="pricing" class="panel" aria-labelledby="pricing-heading">
            <h2 id="pricing-heading">What-if pricing</h2>
            <PricingEditor
              models={info.models}
              stored={info.billing as Record<string, ModelBilling | null>}
              originals={originals}
              drafts={drafts}
              colors={colors}
              overview={overview}
              {...money}
              onChange={setDraft}
              onResetAll={resetAll}
              onExport={invalidDraft ? null : exportScenario}
              onImport={(file) => void importScenario(file)}
              importProblems={importProblems}
              rejected={rejected}
            />
          </section>
          <section id="requests" class="panel" aria-labelledby="requests-heading">
            <h2 id="requests-heading">Requests</h2>
            <RequestsView client={client} fileKey={String(fileId)} dataKey={dataVersion} models={modelNames} range={range} timeZone={timeZone} />
          </section>
          <section id="file" class="panel" aria-labelledby="file-heading">
            <h2 id="file-heading">File</h2>
            <FileInfo info={info} description={description} />
          </section>
        </main>
      )}
      {dragging && <div class="drop-overlay">Drop the monitoring database to open it</div>}
    </div>
  );
}

/** The file's drafts with a (checked) scenario laid over the models it names. */
function applyScenario(base: Readonly<Record<string, Draft>>, scenario: PricingOverrides): Record<string, Draft> {
  const next = { ...base };
  for (const [model, override] of Object.entries(scenario)) if (next[model]) next[model] = applyOverride(next[model]!, override);
  return next;
}

function LinkProblems({ problems }: { problems: readonly string[] }) {
  return (
    <div class="notice" role="status" data-testid="link-problems">
      <strong>Parts of this link could not be used</strong>
      <ul>
        {problems.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
    </div>
  );
}

function NoData({ span, timeZone, onAll }: { span: { first: number; last: number } | null; timeZone: string; onAll(): void }) {
  return (
    <div class="no-data" data-testid="no-data">
      <h3>No data in this range</h3>
      <p>
        {span
          ? `No request and no model runtime falls in the chosen range. This file has data from ${formatDateTime(span.first, timeZone)} to ${formatDateTime(span.last, timeZone)} (${timeZone}).`
          : 'This file holds no requests and no runs.'}
      </p>
      {span && (
        <button type="button" onClick={onAll} data-testid="show-all">
          Show all data
        </button>
      )}
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
        zone, <code>?bucket=</code> hour, day, week or month, <code>?currency=</code> an ISO 4217 code, <code>?pricing=</code> a what-if scenario (JSON).
      </p>
    </div>
  );
}

const PHASES: Record<Progress['phase'], string> = {
  reading: 'Reading the file',
  starting: 'Starting SQLite',
  opening: 'Opening the database',
  analysing: 'Counting requests per 15 minutes and tier',
};

function Loading({ name, progress }: { name: string; progress: Progress | null }) {
  const detail =
    progress?.phase === 'reading' && progress.total > 0 ? ` · ${formatBytes(progress.loaded)} of ${formatBytes(progress.total)}` : progress?.detail ? ` · ${progress.detail}` : '';
  const percent = Math.round(100 * (progress?.fraction ?? 0));
  return (
    <div class="loading" data-testid="loading">
      <h2>Opening {name}</h2>
      <progress data-testid="open-progress" max={1} value={progress?.fraction ?? 0} aria-label={`Opening ${name}`} />
      <p class="muted" role="status">
        {progress ? PHASES[progress.phase] : 'Starting'} · {percent}%{detail}
      </p>
    </div>
  );
}
