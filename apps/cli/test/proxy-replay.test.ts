import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_FAMILIES, apiOf } from '../src/proxy/apis.js';
import { type ProxyUnderTest, rowsOf, startProxy } from './harness.js';
import { FAILING_REPLAYS, PARTIAL_REPLAYS, REPLAYS, type Replay } from './proxy-replays.js';
import { type TestUpstream, startReplayUpstream } from './proxy-upstreams.js';

/**
 * Real servers' bodies (see proxy-replays.ts for each source) sent directly and through the proxy: the
 * client must get the same bytes both ways, and the proxy must write the row the server's numbers give.
 */

const ALL = [...REPLAYS, ...PARTIAL_REPLAYS, ...FAILING_REPLAYS];
let upstream: TestUpstream;
beforeAll(async () => {
  upstream = await startReplayUpstream(ALL, LISTED);
});
afterAll(async () => {
  await upstream?.close();
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function send(base: string, replay: Replay, headers: Record<string, string> = {}) {
  const response = await fetch(base + replay.path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-replay': String(ALL.indexOf(replay)), ...headers },
    body: replay.request,
  });
  return { status: response.status, type: response.headers.get('content-type'), bytes: Buffer.from(await response.arrayBuffer()) };
}

/** The model a replayed request names; llama.cpp's own API names none, and the proxy asks the upstream's /v1/models. */
const modelOf = (replay: Replay): string => (JSON.parse(replay.request) as { model?: string }).model ?? LISTED;
const LISTED = 'replayed-listed-model';

async function withProxy<T>(fn: (proxy: ProxyUnderTest) => Promise<T>): Promise<T> {
  const proxy = await startProxy(upstream.url, { model: undefined });
  try {
    return await fn(proxy);
  } finally {
    await proxy.close();
  }
}

describe('every API family is replayed streamed and not', () => {
  it('the replays cover every family, streamed and not streamed', () => {
    const covered = new Set<string>();
    for (const replay of REPLAYS) {
      const api = apiOf('POST', replay.path);
      expect(api, replay.path).not.toBeNull();
      const streamed = replay.chunks.length > 1 ? 'streamed' : 'plain';
      covered.add(`${api!.family.id} ${streamed}`);
    }
    const expected = API_FAMILIES.flatMap((family) =>
      // Embeddings and rerank have no streamed form in any server.
      ['embeddings', 'rerank', 'llamacpp_embedding', 'ollama_embed'].includes(family.id) ? [`${family.id} plain`] : [`${family.id} streamed`, `${family.id} plain`],
    );
    expect([...covered].sort()).toEqual(expect.arrayContaining(expected.sort()));
  });
});

describe.each(REPLAYS.map((replay) => [replay.name, replay] as const))('%s', (_name, replay) => {
  it('reaches the client byte for byte as going direct, and records the server’s numbers', async () => {
    await withProxy(async (proxy) => {
      const direct = await send(upstream.url, replay);
      const proxied = await send(proxy.url, replay);
      expect(proxied.status).toBe(200);
      expect(proxied.type).toBe(direct.type);
      expect(sha256(proxied.bytes)).toBe(sha256(direct.bytes));
      expect(direct.bytes.toString()).toBe(replay.chunks.join(''));
      await proxy.proxy.flush();
      const rows = await rowsOf(proxy.monitor, modelOf(replay));
      expect(rows.map(({ timestamp: _, ...row }) => row)).toEqual([replay.row]);
      // The upstream got the client's bytes, or those with include_usage set and nothing else changed.
      const sent = upstream.requests.at(-1)!.body.toString();
      if (sent !== replay.request) {
        expect(JSON.parse(sent)).toEqual({ stream_options: { include_usage: true }, ...JSON.parse(replay.request) });
        expect(sent.endsWith(replay.request.slice(1))).toBe(true);
      }
    });
  });
});

/** A replay of the same server whose stream stops after `after` writes, when the client gives up. */
async function abortAfter(proxy: ProxyUnderTest, replay: Replay, after: number) {
  const controller = new AbortController();
  const response = await fetch(proxy.url + replay.path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-replay': String(ALL.indexOf(replay)), 'x-replay-hold-after': String(after) },
    body: replay.request,
    signal: controller.signal,
  });
  const reader = response.body!.getReader();
  // The last held write has reached the client when its text has.
  const last = replay.chunks[after - 1]!;
  const marker = last.slice(Math.max(0, last.length - 24), last.length - 2);
  let seen = '';
  while (!seen.includes(marker)) seen += Buffer.from((await reader.read()).value!).toString();
  controller.abort();
  const upstreamSide = upstream.requests.at(-1)!;
  for (let waited = 0; !upstreamSide.aborted && waited < 5000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(upstreamSide.aborted).toBe(true);
  await proxy.proxy.flush();
  const rows = await rowsOf(proxy.monitor, modelOf(replay));
  return rows.map(({ timestamp: _, ...row }) => row);
}

const find = (name: string) => ALL.find((replay) => replay.name.startsWith(name))!;

describe('a stream the user stops records what is known', () => {
  it('llama.cpp with timings on every chunk (timings_per_token): input, cache and output so far', async () => {
    await withProxy(async (proxy) => {
      const replay = find('llama.cpp b9554');
      expect(await abortAfter(proxy, replay, 2)).toEqual([replay.row]);
    });
  });

  it('ik_llama.cpp with per-token timings: the processed prompt, never more than the finished stream records', async () => {
    await withProxy(async (proxy) => {
      const replay = find('ik_llama.cpp chat completions, streamed, timings on every chunk');
      const [cut] = await abortAfter(proxy, replay, 3);
      const finished = find('ik_llama.cpp chat completions, streamed: timings without cache_n').row;
      expect(cut).toEqual({ inputTokens: 100, outputTokens: 2, cacheN: 0, promptN: 100 });
      for (const key of ['inputTokens', 'outputTokens', 'cacheN', 'promptN'] as const) expect(cut![key]).toBeLessThanOrEqual(finished[key]);
    });
  });

  it("llama.cpp's own completion: tokens_evaluated and tokens_predicted of the last chunk", async () => {
    await withProxy(async (proxy) => {
      expect(await abortAfter(proxy, find("llama.cpp's own completion, streamed"), 2)).toEqual([{ inputTokens: 12, outputTokens: 2, cacheN: 0, promptN: 12 }]);
    });
  });

  it('Anthropic messages: the input of message_start', async () => {
    await withProxy(async (proxy) => {
      expect(await abortAfter(proxy, find('llama.cpp Anthropic messages, streamed'), 3)).toEqual([{ inputTokens: 10, outputTokens: 0, cacheN: 0, promptN: 10 }]);
    });
  });

  it.each([
    ['llama.cpp chat completions, streamed', 2],
    ['Ollama chat, streamed', 1],
    ['llama.cpp Responses, streamed', 2],
  ] as const)('%s: nothing is known before the end, nothing recorded', async (name, after) => {
    await withProxy(async (proxy) => {
      expect(await abortAfter(proxy, find(name), after)).toEqual([]);
      expect(proxy.logs).toEqual([]);
    });
  });
});

describe('a 200 whose stream reports a failure', () => {
  it.each(FAILING_REPLAYS.map((replay) => [replay.name, replay] as const))('%s: forwarded as it came, recorded as a stream that ended early', async (_name, replay) => {
    await withProxy(async (proxy) => {
      const direct = await send(upstream.url, replay);
      const proxied = await send(proxy.url, replay);
      expect(sha256(proxied.bytes)).toBe(sha256(direct.bytes));
      await proxy.proxy.flush();
      const rows = (await rowsOf(proxy.monitor, modelOf(replay))).map(({ timestamp: _, ...row }) => row);
      if (replay.row.inputTokens === 0 && replay.row.outputTokens === 0) expect(await proxy.monitor.listModels()).toEqual([]);
      else expect(rows).toEqual([replay.row]);
    });
  });
});
