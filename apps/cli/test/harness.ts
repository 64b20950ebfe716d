import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Monitor, isMonitorError } from '@llm-monitor/core';
import { openMonitor } from '@llm-monitor/driver-node';
import { type ProxyMonitor, type RecordingProxy, type RecordingProxyOptions, createRecordingProxy } from '../src/index.js';
import type { ReceivedRequest } from './fake-upstream.js';

export interface ProxyUnderTest {
  url: string;
  proxy: RecordingProxy;
  monitor: Monitor;
  server: http.Server;
  dbPath: string;
  /** What the proxy logged. */
  logs: string[];
  close(): Promise<void>;
}

/** A recording proxy on 127.0.0.1 (random port) with a real Monitor on a new temporary SQLite file. */
export async function startProxy(upstream: string, options: Partial<RecordingProxyOptions> = {}): Promise<ProxyUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'llm-monitor-proxy-'));
  const dbPath = join(dir, 'monitoring.db');
  const monitor = await openMonitor(dbPath);
  const logs: string[] = [];
  const proxy = createRecordingProxy({ upstream, monitor, log: (message) => logs.push(message), ...options });
  await proxy.start();
  const server = http.createServer(proxy);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    proxy,
    monitor,
    server,
    dbPath,
    logs,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await proxy.close();
      await monitor.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Received {
  status: number;
  headers: Headers;
  bytes: Buffer;
}

/** POSTs JSON (or any body) and reads the whole response as bytes. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Received> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

/** The bytes the fake upstream wrote for a request. */
export const sentBy = (request: ReceivedRequest | undefined): Buffer => Buffer.concat(request?.sent ?? []);

/** The last request the fake upstream received on `path`. */
export function lastTo(requests: readonly ReceivedRequest[], path: string): ReceivedRequest {
  const found = requests.filter((request) => request.url.split('?')[0] === path).at(-1);
  if (!found) throw new Error(`the upstream received no request on ${path}`);
  return found;
}

/** A model's recorded requests, oldest first, without ids; none when the model is not registered. */
export async function rowsOf(monitor: Monitor, model: string) {
  const rows = await monitor.getModelRequests(model).catch((error: unknown) => {
    if (isMonitorError(error) && error.code === 'UNKNOWN_MODEL') return [];
    throw error;
  });
  return rows.reverse().map(({ id: _, ...row }) => row);
}

let counter = 0;
/** A model name no other test uses, so each test reads only its own rows. */
export const uniqueModel = (label: string) => `${label}-${++counter}`;

/** `monitor` as the proxy writes to it, with some of the five recording methods replaced (to count or fail writes). */
export function monitorWith(monitor: Monitor, replaced: Partial<ProxyMonitor>): ProxyMonitor {
  return {
    addModelRequest: (name, request) => monitor.addModelRequest(name, request),
    addModelRuntimeStart: (name, time) => monitor.addModelRuntimeStart(name, time),
    updateModelRuntimeEnd: (name, time, runId) => monitor.updateModelRuntimeEnd(name, time, runId),
    addProgramRuntimeStart: (time) => monitor.addProgramRuntimeStart(time),
    updateProgramRuntimeEnd: (time, runId) => monitor.updateProgramRuntimeEnd(time, runId),
    ...replaced,
  };
}
