import { type Description, formatNumber } from '@llm-monitor/core';
import { memo } from 'preact/compat';
import { formatBytes } from '../lib/format.js';
import type { OpenResult } from '../worker/protocol.js';

/** What the file is: size, journal mode, and the shape describe() detected per model, with its problems. */
export const FileInfo = memo(function FileInfo({ info, description: d }: { info: OpenResult; description: Description | null }) {
  return (
    <div class="file-info">
      {info.walPatched && (
        <p class="notice" data-testid="wal-notice" role="status">
          <strong>WAL-mode file.</strong> It was read from an in-memory copy with its header switched to rollback mode (the file on disk is untouched). Changes still
          in a separate <code>-wal</code> file next to it are not included: copy the database while LLM-Manager is stopped, or after a checkpoint, to see
          everything.
        </p>
      )}
      <dl class="facts">
        <dt>File</dt>
        <dd data-testid="file-name">{info.fileName}</dd>
        <dt>Size</dt>
        <dd data-testid="file-size" data-value={info.size}>
          {formatBytes(info.size)} ({formatNumber(info.size)} bytes)
        </dd>
        <dt>Layout</dt>
        <dd data-testid="file-shapes">{d ? (d.shapes.length ? d.shapes.join(', ') : '—') : 'reading…'}</dd>
        <dt>Journal</dt>
        <dd>{d ? (d.journalMode ?? '—') : 'reading…'}</dd>
        <dt>Program runs</dt>
        <dd>{formatNumber(info.programRuns.length)}</dd>
        <dt>Opened in</dt>
        <dd data-testid="open-ms" data-value={info.openMs}>
          {formatNumber(info.openMs)} ms
        </dd>
      </dl>
      {d && (
        <>
          <div class="table-wrap" role="region" aria-label="Models in the file" tabIndex={0}>
            <table class="data" data-testid="describe-table">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Shape</th>
                  <th scope="col" class="num">
                    Requests
                  </th>
                  <th scope="col" class="num">
                    Runs
                  </th>
                  <th scope="col" class="num">
                    Tiers
                  </th>
                  <th scope="col">Billing</th>
                  <th scope="col">Notes</th>
                </tr>
              </thead>
              <tbody>
                {d.models.map((m) => (
                  <tr key={m.name} data-testid="describe-row" data-model={m.name} data-shape={m.shape}>
                    <td class="name">{m.name}</td>
                    <td>
                      <span class="badge">{m.shape}</span>
                    </td>
                    <td class="num">{formatNumber(m.requests)}</td>
                    <td class="num">
                      {formatNumber(m.runs)}
                      {m.openRuns > 0 ? ` (${m.openRuns} open)` : ''}
                    </td>
                    <td class="num">{m.tiers}</td>
                    <td>{m.billingMethod === null ? 'not configured' : m.billingMethod === 'tier' ? 'per token' : 'hourly'}</td>
                    <td class="problems">{m.problems.length ? m.problems.join('; ') : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {d.problems.length > 0 && (
            <ul class="warn small">
              {d.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
        </>
      )}
      <p class="muted small">
        Shapes: S1–S3 per-model tables of the original Monitor (S2/S3 with cache columns), S4 requests with start/end times, S5 2-D price windows, S6/S7 the
        normalized tables of LLM-Manager v2.6+.
      </p>
    </div>
  );
});
