import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RecordingProxy, createRecordingProxy } from '../src/index.js';
import { collect, removeDir, requireBuiltBin, startBin, tempDir } from './cli-harness.js';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.js';
import { monitorWith, post, startProxy } from './harness.js';

const MESSAGES = [{ role: 'user', content: 'one two three four' }];

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(async () => {
  await upstream?.close();
});

/** Metric lines of Prometheus text as `name{labels}` → value. */
function parse(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

describe('--metrics: Prometheus metrics on the proxy', () => {
  it('requests, tokens and failures per model, upstream latency, open streams', async () => {
    const { openMonitor } = await import('@llm-monitor/driver-node');
    const dir = tempDir('metrics');
    const monitor = await openMonitor(join(dir, 'monitoring.db'));
    // A database that refuses the writes of one model (a full disk, say, for that model's table).
    const failing = monitorWith(monitor, {
      addModelRequest: (name, request) => (name === 'broken' ? Promise.reject(new Error('disk I/O error')) : monitor.addModelRequest(name, request)),
    });
    const logs: string[] = [];
    const proxy: RecordingProxy = createRecordingProxy({ upstream: upstream.url, monitor: failing, metrics: true, log: (line) => logs.push(line) });
    const server = http.createServer(proxy);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const scrape = async () => {
      const response = await fetch(`${base}/metrics`);
      expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      return parse(await response.text());
    };
    try {
      await proxy.start();
      await post(`${base}/v1/chat/completions`, { model: 'qwen', messages: MESSAGES, max_tokens: 3 }, { 'x-fake-cached': '1' });
      await post(`${base}/v1/chat/completions`, { model: 'qwen', messages: MESSAGES, max_tokens: 2, stream: true });
      await post(`${base}/v1/chat/completions`, { model: 'busy', messages: MESSAGES }, { 'x-fake-status': '429' });
      await post(`${base}/v1/chat/completions`, { model: 'broken', messages: MESSAGES });
      await fetch(`${base}/health`);

      // A stream held open: counted while it is.
      const open = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-fake-delay-ms': '100' },
        body: JSON.stringify({ model: 'qwen', messages: MESSAGES, max_tokens: 4, stream: true }),
      });
      const during = await scrape();
      expect(during.get('llm_monitor_proxy_open_streams{api="chat_completions"}')).toBe(1);
      await open.text();
      await proxy.flush();

      const after = await scrape();
      expect(after.get('llm_monitor_proxy_open_streams{api="chat_completions"}')).toBe(0);
      expect(after.get('llm_monitor_proxy_recorded_requests_total{model="qwen",api="chat_completions"}')).toBe(3);
      expect(after.get('llm_monitor_proxy_input_tokens_total{model="qwen"}')).toBe(12);
      expect(after.get('llm_monitor_proxy_output_tokens_total{model="qwen"}')).toBe(9);
      expect(after.get('llm_monitor_proxy_cache_tokens_total{model="qwen"}')).toBe(1);
      expect(after.get('llm_monitor_proxy_prompt_tokens_total{model="qwen"}')).toBe(11);
      expect(after.get('llm_monitor_proxy_recording_failures_total{model="broken"}')).toBe(1);
      expect(after.has('llm_monitor_proxy_recorded_requests_total{model="broken",api="chat_completions"}')).toBe(false);
      expect(after.has('llm_monitor_proxy_input_tokens_total{model="busy"}')).toBe(false);
      expect(after.get('llm_monitor_proxy_unrecorded_requests_total{api="chat_completions",reason="upstream_error"}')).toBe(1);
      expect(after.get('llm_monitor_proxy_requests_total{api="chat_completions",code="200"}')).toBe(4);
      expect(after.get('llm_monitor_proxy_requests_total{api="chat_completions",code="429"}')).toBe(1);
      expect(after.get('llm_monitor_proxy_requests_total{api="other",code="200"}')).toBe(1);
      expect(after.get('llm_monitor_proxy_upstream_response_seconds_count{api="chat_completions"}')).toBe(5);
      expect(after.get('llm_monitor_proxy_request_duration_seconds_count{api="chat_completions"}')).toBe(5);
      // The held stream took at least 4 events x 100 ms.
      expect(after.get('llm_monitor_proxy_request_duration_seconds_bucket{le="0.25",api="chat_completions"}')).toBe(4);
      expect(after.get('llm_monitor_proxy_active_models')).toBe(2);
      expect(after.get('llm_monitor_proxy_requests_in_flight')).toBe(0);
      expect(after.has('llm_monitor_proxy_process_resident_memory_bytes')).toBe(true);
      expect(logs).toEqual(['could not record a request of model "broken": disk I/O error']);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await proxy.close();
      await monitor.close();
      removeDir(dir);
    }
  });

  it('without metrics, GET /metrics is forwarded (llama.cpp and vLLM serve their own there)', async () => {
    const proxy = await startProxy(upstream.url);
    try {
      expect(proxy.proxy.metrics).toBeNull();
      expect(await (await fetch(`${proxy.url}/metrics`)).json()).toEqual({ echo: { method: 'GET', url: '/metrics', bodyBytes: 0 } });
    } finally {
      await proxy.close();
    }
  });

  it('llm-monitor proxy --metrics says where the metrics are', async () => {
    requireBuiltBin();
    const dir = tempDir('metrics-bin');
    const child = startBin(['proxy', '--upstream', upstream.url, '--port', '0', '--db', join(dir, 'm.db'), '--metrics']);
    const { output, exited } = collect(child);
    try {
      for (let waited = 0; !output.stdout.includes('Prometheus metrics at') && waited < 15_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      const url = /Prometheus metrics at (\S+)/.exec(output.stdout)?.[1];
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(await (await fetch(url!)).text()).toContain('# TYPE llm_monitor_proxy_requests_total counter');
    } finally {
      child.kill('SIGTERM');
      await exited;
      removeDir(dir);
    }
  });
});
