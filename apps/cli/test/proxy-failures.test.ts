import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecordingProxy } from '../src/index.js';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.js';
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

const MESSAGES = [{ role: 'user', content: 'one two three four' }];
const until = async (condition: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};
const tokensOf = async (model: string) => (await rowsOf(proxy.monitor, model)).map(({ timestamp: _, ...t }) => t);

describe('upstream down', () => {
  it('answers 502 with a JSON error body and records nothing', async () => {
    // A port that was just free: nothing listens there.
    const free = http.createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const { port } = free.address() as AddressInfo;
    await new Promise((resolve) => free.close(resolve));
    const down = await startProxy(`http://127.0.0.1:${port}`);
    try {
      const model = uniqueModel('down');
      for (const stream of [false, true]) {
        const received = await post(`${down.url}/v1/chat/completions`, { model, messages: MESSAGES, stream });
        expect(received.status).toBe(502);
        expect(received.headers.get('content-type')).toMatch(/^application\/json/);
        const body = JSON.parse(received.bytes.toString());
        expect(body.error.type).toBe('upstream_unavailable');
        expect(body.error.message).toContain(`127.0.0.1:${port}`);
      }
      const unrecorded = await fetch(`${down.url}/health`);
      expect(unrecorded.status).toBe(502);
      await down.proxy.flush();
      expect(await rowsOf(down.monitor, model)).toEqual([]);
    } finally {
      await down.close();
    }
  });

  it('a stream the upstream breaks off mid-way is cut for the client too, and not recorded', async () => {
    const model = uniqueModel('broken');
    const response = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-fake-break-after': '3' },
      body: JSON.stringify({ model, messages: MESSAGES, max_tokens: 20, stream: true }),
    });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    await proxy.proxy.flush();
    expect(await tokensOf(model)).toEqual([]);
  });
});

describe('client disconnects', () => {
  it('mid-stream: the upstream request is aborted and the partial usage known is recorded', async () => {
    const model = uniqueModel('abort');
    const controller = new AbortController();
    const response = await fetch(`${proxy.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-fake-delay-ms': '20', 'x-fake-cached': '1' },
      body: JSON.stringify({ model, messages: MESSAGES, max_tokens: 200, stream: true }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let seen = '';
    while (!seen.includes('content_block_delta')) seen += Buffer.from((await reader.read()).value!).toString();
    controller.abort();
    const upstreamSide = lastTo(upstream.requests, '/v1/messages');
    await until(() => upstreamSide.aborted);
    expect(upstreamSide.finished).toBe(false);
    await proxy.proxy.flush();
    // message_start said 4 prompt tokens (1 from cache) and output_tokens 1; message_delta never came.
    expect(await tokensOf(model)).toEqual([{ inputTokens: 4, outputTokens: 1, cacheN: 1, promptN: 3 }]);
  });

  it('before the upstream answered: the upstream request is aborted, nothing recorded', async () => {
    const model = uniqueModel('early-abort');
    const before = upstream.requests.length;
    const controller = new AbortController();
    const pending = fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-fake-wait-ms': '2000' },
      body: JSON.stringify({ model, messages: MESSAGES, stream: true, max_tokens: 50 }),
      signal: controller.signal,
    });
    await until(() => upstream.requests.length > before);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await until(() => upstream.requests.at(-1)!.aborted);
    await proxy.proxy.flush();
    expect(await tokensOf(model)).toEqual([]);
  });
});

describe('protocol details', () => {
  it('Expect: 100-continue and a chunked request body', async () => {
    const model = uniqueModel('continue');
    const { port } = new URL(proxy.url);
    const text = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json', expect: '100-continue' } });
      req.on('continue', () => {
        req.write(`{"model":${JSON.stringify(model)},`);
        req.end(`"messages":${JSON.stringify(MESSAGES)},"max_tokens":2}`);
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
    });
    expect(JSON.parse(text).usage.completion_tokens).toBe(2);
    expect(lastTo(upstream.requests, '/v1/chat/completions').headers.expect).toBeUndefined();
    await proxy.proxy.flush();
    expect(await tokensOf(model)).toEqual([{ inputTokens: 4, outputTokens: 2, cacheN: 0, promptN: 4 }]);
  });

  it('a response that claims gzip but is not: forwarded as it came, logged, not recorded', async () => {
    const model = uniqueModel('bad-gzip');
    const { port } = new URL(proxy.url);
    const raw = await new Promise<Buffer>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers: { 'x-fake-gzip': 'lie' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ model, messages: MESSAGES }));
    });
    expect(raw.equals(sentBy(lastTo(upstream.requests, '/v1/chat/completions')))).toBe(true);
    await proxy.proxy.flush();
    expect(await tokensOf(model)).toEqual([]);
    expect(proxy.logs.some((line) => line.includes('could not decode a gzip response'))).toBe(true);
  });

  it('an absolute-form target (the proxy used as an HTTP proxy) is forwarded by its path', async () => {
    const model = uniqueModel('absolute');
    const { port } = new URL(proxy.url);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: 'http://llm.example/v1/embeddings?x=1', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ model, input: 'a b c' }));
    });
    expect(status).toBe(200);
    expect(upstream.requests.at(-1)!.url).toBe('/v1/embeddings?x=1');
    await proxy.proxy.flush();
    expect(await tokensOf(model)).toEqual([{ inputTokens: 3, outputTokens: 0, cacheN: 0, promptN: 3 }]);
  });

  it('a stream sent with another content type is still read as events when the client asked for a stream', async () => {
    const model = uniqueModel('plain-stream');
    const body = { model, messages: MESSAGES, max_tokens: 3, stream: true };
    const received = await post(`${proxy.url}/v1/chat/completions`, body, { 'x-fake-stream-type': 'text/plain' });
    expect(received.bytes.toString()).toBe((await post(`${upstream.url}/v1/chat/completions`, body, { 'x-fake-stream-type': 'text/plain' })).bytes.toString());
    await proxy.proxy.flush();
    expect(await tokensOf(model)).toEqual([{ inputTokens: 4, outputTokens: 3, cacheN: 0, promptN: 4 }]);
  });
});

describe('as middleware', () => {
  it('mounted under a path in Express, before and after a body parser', async () => {
    const model = uniqueModel('express');
    const logs: string[] = [];
    const mounted = createRecordingProxy({ upstream: upstream.url, monitor: proxy.monitor, log: (line) => logs.push(line) });
    const app = express();
    app.get('/own-route', (_req, res) => {
      res.json({ app: true });
    });
    app.use('/llm', mounted);
    app.use('/parsed', express.json(), mounted);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/own-route`)).json()).toEqual({ app: true });

      const body = { model, messages: MESSAGES, max_tokens: 2, stream: true };
      const streamed = await post(`${base}/llm/v1/chat/completions`, body);
      expect(lastTo(upstream.requests, '/v1/chat/completions').url).toBe('/v1/chat/completions');
      expect(streamed.bytes.toString()).toBe((await post(`${upstream.url}/v1/chat/completions`, body)).bytes.toString());

      const parsed = await post(`${base}/parsed/v1/chat/completions`, { model, messages: MESSAGES, max_tokens: 3 });
      // Headers Express set before the proxy are merged with the upstream's.
      expect(parsed.headers.get('x-powered-by')).toBe('Express');
      expect(parsed.headers.get('x-fake-upstream')).toBe('yes');
      const upstreamGot = lastTo(upstream.requests, '/v1/chat/completions');
      expect(JSON.parse(upstreamGot.body.toString())).toEqual({ model, messages: MESSAGES, max_tokens: 3 });
      expect(parsed.bytes.equals(sentBy(upstreamGot))).toBe(true);

      await mounted.flush();
      expect(await tokensOf(model)).toEqual([
        { inputTokens: 4, outputTokens: 2, cacheN: 0, promptN: 4 },
        { inputTokens: 4, outputTokens: 3, cacheN: 0, promptN: 4 },
      ]);
      expect(logs).toEqual([]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await mounted.close();
    }
  });

  it('after close() requests are still forwarded, but not recorded', async () => {
    const model = uniqueModel('closed');
    const closed = createRecordingProxy({ upstream: upstream.url, monitor: proxy.monitor, log: () => undefined });
    await closed.close();
    const server = http.createServer(closed);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const received = await post(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`, { model, messages: MESSAGES });
      expect(received.status).toBe(200);
      await closed.flush();
      expect(await tokensOf(model)).toEqual([]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
