import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, LISTED_MODEL, startFakeUpstream } from './fake-upstream.js';
import { type ProxyUnderTest, lastTo, post, rowsOf, sentBy, startProxy, uniqueModel } from './harness.js';

let upstream: FakeUpstream;
let proxy: ProxyUnderTest;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  proxy = await startProxy(upstream.url);
});
afterAll(async () => {
  await proxy?.close();
  await upstream?.close();
});

const SIX_WORDS = [{ role: 'user', content: 'one two three four five six' }];
const LLAMA = { 'x-fake-flavor': 'llama' };

/** Sends the same request through the proxy; returns what the client got and the row(s) written. */
async function through(path: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const before = Date.now() / 1000;
  const received = await post(proxy.url + path, body, headers);
  await proxy.proxy.flush();
  const after = Date.now() / 1000;
  const rows = await rowsOf(proxy.monitor, String(body.model));
  for (const row of rows) {
    expect(row.timestamp).toBeGreaterThanOrEqual(before);
    expect(row.timestamp).toBeLessThanOrEqual(after);
  }
  return { received, rows: rows.map(({ timestamp: _, ...tokens }) => tokens), upstreamGot: lastTo(upstream.requests, path) };
}

/** What the upstream answers to `body` when asked directly (no proxy). */
const direct = (path: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => post(upstream.url + path, body, headers);

const tokens = (inputTokens: number, outputTokens: number, cacheN = 0, promptN = inputTokens - cacheN) => ({ inputTokens, outputTokens, cacheN, promptN });

describe('chat completions', () => {
  it('non-streamed, OpenAI usage with cached tokens: bytes and body unchanged, one row', async () => {
    const body = { model: uniqueModel('chat'), messages: SIX_WORDS, max_tokens: 3 };
    const { received, rows, upstreamGot } = await through('/v1/chat/completions', body, { 'x-fake-cached': '2', 'X-Custom': 'kept' });
    expect(received.status).toBe(200);
    expect(received.bytes.equals(sentBy(upstreamGot))).toBe(true);
    expect(received.headers.get('x-fake-upstream')).toBe('yes');
    expect(upstreamGot.body.toString()).toBe(JSON.stringify(body));
    expect(upstreamGot.headers['x-custom']).toBe('kept');
    expect(upstreamGot.headers.host).toBe(new URL(upstream.url).host);
    expect(rows).toEqual([tokens(6, 3, 2, 4)]);
  });

  it('non-streamed llama.cpp: timings win over usage (cache_n + prompt_n, predicted_n)', async () => {
    const body = { model: uniqueModel('llama-chat'), messages: SIX_WORDS, max_tokens: 5 };
    const { received, rows, upstreamGot } = await through('/v1/chat/completions', body, { ...LLAMA, 'x-fake-cached': '4' });
    expect(received.bytes.equals(sentBy(upstreamGot))).toBe(true);
    // llama.cpp's usage here says nothing of the cache; the recorded split comes from timings.
    expect(rows).toEqual([tokens(6, 5, 4, 2)]);
  });

  it('streamed, client did not ask for usage: upstream is asked, the client gets exactly the stream without it', async () => {
    const body = { model: uniqueModel('chat-stream'), messages: SIX_WORDS, max_tokens: 4, stream: true };
    const { received, rows, upstreamGot } = await through('/v1/chat/completions', body, { 'x-fake-cached': '1' });
    expect(JSON.parse(upstreamGot.body.toString())).toEqual({ ...body, stream_options: { include_usage: true } });
    expect(received.headers.get('content-type')).toBe('text/event-stream');
    const plain = await direct('/v1/chat/completions', body, { 'x-fake-cached': '1' });
    expect(sentBy(upstreamGot).toString()).toContain('"usage":null');
    expect(received.bytes.toString()).toBe(plain.bytes.toString());
    expect(rows).toEqual([tokens(6, 4, 1, 5)]);
  });

  it('streamed, client asked for usage: body and stream pass unchanged', async () => {
    const body = { model: uniqueModel('chat-stream-usage'), messages: SIX_WORDS, max_tokens: 2, stream: true, stream_options: { include_usage: true } };
    const { received, rows, upstreamGot } = await through('/v1/chat/completions', body);
    expect(upstreamGot.body.toString()).toBe(JSON.stringify(body));
    expect(received.bytes.equals(sentBy(upstreamGot))).toBe(true);
    expect(rows).toEqual([tokens(6, 2)]);
  });

  it('streamed, client set include_usage false and other options: merged, stripped, recorded', async () => {
    const body = { model: uniqueModel('chat-stream-false'), messages: SIX_WORDS, max_tokens: 2, stream: true, stream_options: { include_usage: false, other: 1 } };
    const { received, rows, upstreamGot } = await through('/v1/chat/completions', body);
    expect(JSON.parse(upstreamGot.body.toString()).stream_options).toEqual({ include_usage: true, other: 1 });
    const plain = await direct('/v1/chat/completions', body);
    expect(received.bytes.toString()).toBe(plain.bytes.toString());
    expect(rows).toEqual([tokens(6, 2)]);
  });

  it('streamed llama.cpp, client did not ask: timings go back onto the finish chunk as llama.cpp sends them', async () => {
    const body = { model: uniqueModel('llama-stream'), messages: SIX_WORDS, max_tokens: 3, stream: true };
    const { received, rows, upstreamGot } = await through('/v1/chat/completions', body, { ...LLAMA, 'x-fake-cached': '3' });
    expect(JSON.parse(upstreamGot.body.toString()).stream_options).toEqual({ include_usage: true });
    const plain = await direct('/v1/chat/completions', body, { ...LLAMA, 'x-fake-cached': '3' });
    expect(plain.bytes.toString()).toContain('"timings"');
    expect(received.bytes.toString()).toBe(plain.bytes.toString());
    expect(rows).toEqual([tokens(6, 3, 3, 3)]);
  });

  it('streamed llama.cpp, client asked for usage: unchanged, timings recorded', async () => {
    const body = { model: uniqueModel('llama-stream-usage'), messages: SIX_WORDS, max_tokens: 3, stream: true, stream_options: { include_usage: true } };
    const { received, rows, upstreamGot } = await through('/v1/chat/completions', body, { ...LLAMA, 'x-fake-cached': '5' });
    expect(received.bytes.equals(sentBy(upstreamGot))).toBe(true);
    expect(rows).toEqual([tokens(6, 3, 5, 1)]);
  });

  it('the OpenAI SDK gets the same results through the proxy as directly, streamed and not', async () => {
    const model = uniqueModel('sdk');
    const viaProxy = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    const viaDirect = new OpenAI({ baseURL: `${upstream.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    const request = { model, messages: [{ role: 'user' as const, content: 'hello there proxy' }], max_tokens: 4 };

    const [proxied, plain] = await Promise.all([viaProxy.chat.completions.create(request), viaDirect.chat.completions.create(request)]);
    expect(proxied).toEqual(plain);
    expect(proxied.usage?.prompt_tokens).toBe(3);

    const collect = async (client: OpenAI) => {
      const chunks = [];
      for await (const chunk of await client.chat.completions.create({ ...request, stream: true })) chunks.push(chunk);
      return chunks;
    };
    const proxiedChunks = await collect(viaProxy);
    expect(proxiedChunks).toEqual(await collect(viaDirect));
    expect(proxiedChunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('tok0 tok1 tok2 tok3 ');
    expect(lastTo(upstream.requests, '/v1/chat/completions').headers.authorization).toBe('Bearer sk-test');

    await proxy.proxy.flush();
    expect((await rowsOf(proxy.monitor, model)).map(({ timestamp: _, ...t }) => t)).toEqual([tokens(3, 4), tokens(3, 4)]);
  });
});

describe('completions', () => {
  it('non-streamed llama.cpp with timings', async () => {
    const body = { model: uniqueModel('completion'), prompt: 'a b c d e f g h', max_tokens: 6 };
    const { received, rows, upstreamGot } = await through('/v1/completions', body, { ...LLAMA, 'x-fake-cached': '7' });
    expect(received.bytes.equals(sentBy(upstreamGot))).toBe(true);
    expect(rows).toEqual([tokens(8, 6, 7, 1)]);
  });

  it('streamed OpenAI-style: usage asked for and stripped', async () => {
    const body = { model: uniqueModel('completion-stream'), prompt: 'a b c', max_tokens: 2, stream: true };
    const { received, rows, upstreamGot } = await through('/v1/completions', body);
    expect(JSON.parse(upstreamGot.body.toString()).stream_options).toEqual({ include_usage: true });
    expect(received.bytes.toString()).toBe((await direct('/v1/completions', body)).bytes.toString());
    expect(rows).toEqual([tokens(3, 2)]);
  });
});

describe('embeddings and rerank', () => {
  it('embeddings: prompt tokens in, nothing out', async () => {
    const body = { model: uniqueModel('embed'), input: ['alpha beta', 'gamma delta epsilon'] };
    const { received, rows, upstreamGot } = await through('/v1/embeddings', body);
    expect(received.bytes.equals(sentBy(upstreamGot))).toBe(true);
    expect(rows).toEqual([tokens(5, 0)]);
  });

  it.each(['/v1/rerank', '/v1/reranking', '/rerank'])('rerank on %s (usage with prompt_tokens, or total_tokens only)', async (path) => {
    const body = { model: uniqueModel('rerank'), query: 'which one', documents: ['first doc', 'second doc here'] };
    const { received, rows, upstreamGot } = await through(path, body);
    expect(received.bytes.equals(sentBy(upstreamGot))).toBe(true);
    expect(rows).toEqual([tokens(7, 0)]);
  });
});

describe('responses', () => {
  it('non-streamed: input_tokens with cached_tokens, output_tokens', async () => {
    const body = { model: uniqueModel('responses'), input: 'tell me a story please', max_output_tokens: 7 };
    const { received, rows, upstreamGot } = await through('/v1/responses', body, { 'x-fake-cached': '3' });
    expect(received.bytes.equals(sentBy(upstreamGot))).toBe(true);
    expect(rows).toEqual([tokens(5, 7, 3, 2)]);
  });

  it('streamed: usage from response.completed; stream and body unchanged', async () => {
    const body = { model: uniqueModel('responses-stream'), input: 'tell me a story please', max_output_tokens: 3, stream: true };
    const { received, rows, upstreamGot } = await through('/v1/responses', body, { 'x-fake-cached': '1' });
    expect(upstreamGot.body.toString()).toBe(JSON.stringify(body));
    expect(received.bytes.equals(sentBy(upstreamGot))).toBe(true);
    expect(rows).toEqual([tokens(5, 3, 1, 4)]);
  });
});

describe('Anthropic messages', () => {
  it('non-streamed: input + cache reads + cache writes', async () => {
    const body = { model: uniqueModel('claude'), system: 'be brief', messages: SIX_WORDS, max_tokens: 9 };
    const { received, rows, upstreamGot } = await through('/v1/messages', body, { 'x-fake-cached': '5', 'x-fake-cache-write': '2' });
    expect(received.bytes.equals(sentBy(upstreamGot))).toBe(true);
    // 8 prompt words: input_tokens 3 (8 - 5 read), cache_read 5, cache_creation 2 → 10 in, 5 from cache.
    expect(rows).toEqual([tokens(10, 9, 5, 5)]);
  });

  it('streamed: message_start input usage combined with message_delta output_tokens', async () => {
    const body = { model: uniqueModel('claude-stream'), messages: SIX_WORDS, max_tokens: 4, stream: true };
    const { received, rows, upstreamGot } = await through('/v1/messages', body, { 'x-fake-cached': '2' });
    expect(upstreamGot.body.toString()).toBe(JSON.stringify(body));
    expect(received.bytes.equals(sentBy(upstreamGot))).toBe(true);
    expect(rows).toEqual([tokens(6, 4, 2, 4)]);
  });
});

describe('everything else passes through unrecorded', () => {
  it('GET with a query string, other POST paths, status and body as the upstream sent them', async () => {
    const got = await fetch(`${proxy.url}/health?verbose=1&x=%20y`);
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual({ echo: { method: 'GET', url: '/health?verbose=1&x=%20y', bodyBytes: 0 } });

    const model = uniqueModel('tokenize');
    const tokenized = await post(`${proxy.url}/v1/tokenize`, { model, content: 'a b c' });
    expect(JSON.parse(tokenized.bytes.toString())).toEqual({ echo: { method: 'POST', url: '/v1/tokenize', bodyBytes: JSON.stringify({ model, content: 'a b c' }).length } });
    const counted = await post(`${proxy.url}/v1/messages/count_tokens`, { model, messages: SIX_WORDS });
    expect(counted.status).toBe(200);
    await proxy.proxy.flush();
    expect((await proxy.monitor.listModels()).map((m) => m.name)).not.toContain(model);
  });

  it('an upstream error status is passed on and nothing is recorded', async () => {
    const body = { model: uniqueModel('error'), messages: SIX_WORDS };
    const { received, rows } = await through('/v1/chat/completions', body, { 'x-fake-status': '429' });
    expect(received.status).toBe(429);
    expect(JSON.parse(received.bytes.toString())).toEqual({ error: { message: 'fake error 429', type: 'fake_error' } });
    expect(rows).toEqual([]);
  });

  it('a response that is not JSON reaches the client unchanged and is not recorded', async () => {
    const body = { model: uniqueModel('garbage'), messages: SIX_WORDS };
    const { received, rows } = await through('/v1/chat/completions', body, { 'x-fake-body': '{"usage": {"prompt_tokens": 5' });
    expect(received.bytes.toString()).toBe('{"usage": {"prompt_tokens": 5');
    expect(rows).toEqual([]);
    expect(proxy.logs.some((line) => line.includes('not JSON'))).toBe(true);
  });

  it('a successful response that reports zero tokens is one row of zeros: the request counts', async () => {
    const body = { model: uniqueModel('zero'), messages: [], max_tokens: 0 };
    const { rows } = await through('/v1/chat/completions', body);
    expect(rows).toEqual([tokens(0, 0)]);
  });
});

describe('gzip-encoded responses', () => {
  it('non-streamed: forwarded compressed as sent, usage read from a decoded copy', async () => {
    const body = { model: uniqueModel('gzip'), messages: SIX_WORDS, max_tokens: 2 };
    const response = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-fake-gzip': '1', 'accept-encoding': 'gzip' },
      body: JSON.stringify(body),
    });
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(Buffer.from(await response.arrayBuffer()).equals(sentBy(lastTo(upstream.requests, '/v1/chat/completions')))).toBe(true);
    await proxy.proxy.flush();
    expect((await rowsOf(proxy.monitor, body.model)).map(({ timestamp: _, ...t }) => t)).toEqual([tokens(6, 2)]);
  });

  it('streamed with the usage chunk stripped: sent decoded, identical to the plain stream', async () => {
    const body = { model: uniqueModel('gzip-stream'), messages: SIX_WORDS, max_tokens: 3, stream: true };
    const { received, rows } = await through('/v1/chat/completions', body, { 'x-fake-gzip': '1' });
    expect(received.headers.get('content-encoding')).toBeNull();
    expect(received.bytes.toString()).toBe((await direct('/v1/chat/completions', body)).bytes.toString());
    expect(rows).toEqual([tokens(6, 3)]);
  });
});

describe('model names and runtime', () => {
  it('a request without a model is recorded under the upstream first /v1/models entry, asked once', async () => {
    const modelsCalls = () => upstream.requests.filter((r) => r.url === '/v1/models').length;
    const before = modelsCalls();
    await post(`${proxy.url}/v1/embeddings`, { input: 'one two' });
    await post(`${proxy.url}/v1/embeddings`, { input: 'three' });
    await proxy.proxy.flush();
    expect(modelsCalls() - before).toBeLessThanOrEqual(1);
    const rows = (await rowsOf(proxy.monitor, LISTED_MODEL)).map(({ timestamp: _, ...t }) => t);
    expect(rows.slice(-2)).toEqual([tokens(2, 0), tokens(1, 0)]);
  });

  it('--model overrides the body; runs start when a model is first seen and the heartbeat moves them', async () => {
    const fixed = uniqueModel('fixed');
    const other = await startProxy(upstream.url, { model: fixed, heartbeatMs: 50 });
    try {
      const programStart = (await other.monitor.getProgramRuntime())[0]!;
      await post(`${other.url}/v1/chat/completions`, { model: 'ignored', messages: SIX_WORDS, max_tokens: 1 });
      await post(`${other.url}/v1/chat/completions`, { messages: SIX_WORDS, max_tokens: 2 });
      await other.proxy.flush();
      expect((await rowsOf(other.monitor, fixed)).map(({ timestamp: _, ...t }) => t)).toEqual([tokens(6, 1), tokens(6, 2)]);
      expect((await other.monitor.listModels()).map((m) => m.name)).toEqual([fixed]);
      const [run] = await other.monitor.getModelRuntime(fixed);
      expect(run!.startTime).toBeGreaterThanOrEqual(programStart.startTime);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const [beat] = await other.monitor.getModelRuntime(fixed);
      expect(beat!.endTime).toBeGreaterThan(beat!.startTime);
      expect((await other.monitor.getProgramRuntime())[0]!.endTime).toBeGreaterThan(programStart.startTime);
      await other.proxy.close();
      const closedAt = Date.now() / 1000;
      const [closed] = await other.monitor.getModelRuntime(fixed);
      expect(closed!.endTime).toBeGreaterThan(closedAt - 1);
      expect(await other.monitor.getModelRuntime(fixed)).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('two proxies recording one model into one database move only their own runs', async () => {
    const shared = uniqueModel('shared');
    const first = await startProxy(upstream.url, { model: shared, heartbeatMs: 60_000 });
    const { createRecordingProxy } = await import('../src/index.js');
    const { openMonitor } = await import('@llm-monitor/driver-node');
    const secondMonitor = await openMonitor(first.dbPath);
    const second = createRecordingProxy({ upstream: upstream.url, monitor: secondMonitor, model: shared, heartbeatMs: 60_000 });
    try {
      const http = await import('node:http');
      const server = http.createServer(second);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      await second.start();
      await post(`${first.url}/v1/chat/completions`, { messages: SIX_WORDS, max_tokens: 1 });
      await first.proxy.flush();
      await post(`http://127.0.0.1:${port}/v1/chat/completions`, { messages: SIX_WORDS, max_tokens: 1 });
      await second.flush();
      // the first proxy shuts down while the second keeps running: its close must not end the second's run
      await first.proxy.close();
      const runs = await first.monitor.getModelRuntime(shared); // newest first: [second's, first's]
      expect(runs).toHaveLength(2);
      expect(runs[1]!.endTime).toBeGreaterThan(runs[1]!.startTime);
      expect(runs[0]!.endTime).toBe(runs[0]!.startTime);
      const programs = await first.monitor.getProgramRuntime();
      expect(programs[0]!.endTime).toBe(programs[0]!.startTime); // the second proxy's program run, untouched
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    } finally {
      await second.close();
      await secondMonitor.close();
      await first.close();
    }
  });
});
