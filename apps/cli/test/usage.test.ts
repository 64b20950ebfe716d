import { describe, expect, it } from 'vitest';
import { ResponseReader, inspectRequest, recordedPath } from '../src/proxy/llm-api.js';
import { SseSplitter } from '../src/proxy/sse.js';
import { UsageCollector } from '../src/proxy/usage.js';

const usageOf = (...documents: unknown[]) => {
  const collector = new UsageCollector();
  for (const document of documents) collector.add(document);
  return collector.usage;
};

describe('UsageCollector', () => {
  it('llama.cpp timings win over usage: input = cache_n + prompt_n', () => {
    expect(usageOf({ usage: { prompt_tokens: 999, completion_tokens: 999 }, timings: { cache_n: 100, prompt_n: 20, predicted_n: 7 } })).toEqual({
      inputTokens: 120,
      outputTokens: 7,
      cacheN: 100,
      promptN: 20,
    });
    // Older llama.cpp without cache_n.
    expect(usageOf({ timings: { prompt_n: 20, predicted_n: 7, prompt_ms: 1.5 } })).toEqual({ inputTokens: 20, outputTokens: 7, cacheN: 0, promptN: 20 });
  });

  it('OpenAI usage: cached_tokens are part of prompt_tokens', () => {
    expect(usageOf({ usage: { prompt_tokens: 50, completion_tokens: 5, total_tokens: 55, prompt_tokens_details: { cached_tokens: 32 } } })).toEqual({
      inputTokens: 50,
      outputTokens: 5,
      cacheN: 32,
      promptN: 18,
    });
    expect(usageOf({ usage: { total_tokens: 12 } })).toEqual({ inputTokens: 12, outputTokens: 0, cacheN: 0, promptN: 12 });
  });

  it('Responses usage, top level or inside response.completed', () => {
    const usage = { input_tokens: 40, input_tokens_details: { cached_tokens: 30 }, output_tokens: 9, total_tokens: 49 };
    const expected = { inputTokens: 40, outputTokens: 9, cacheN: 30, promptN: 10 };
    expect(usageOf({ object: 'response', usage })).toEqual(expected);
    expect(usageOf({ type: 'response.created', response: { usage: null } }, { type: 'response.completed', response: { usage } })).toEqual(expected);
  });

  it('Anthropic: cache reads and writes add to input_tokens; stream events combine', () => {
    const start = { type: 'message_start', message: { usage: { input_tokens: 10, cache_creation_input_tokens: 200, cache_read_input_tokens: 1000, output_tokens: 1 } } };
    expect(usageOf(start, { type: 'message_delta', usage: { output_tokens: 77 } })).toEqual({ inputTokens: 1210, outputTokens: 77, cacheN: 1000, promptN: 210 });
    expect(usageOf(start)).toEqual({ inputTokens: 1210, outputTokens: 1, cacheN: 1000, promptN: 210 });
  });

  it('nothing when every count is zero, absent or not a count', () => {
    expect(usageOf({ choices: [] })).toBeNull();
    expect(usageOf({ usage: { prompt_tokens: 0, completion_tokens: 0 } })).toBeNull();
    expect(usageOf({ usage: { prompt_tokens: -3, completion_tokens: 'many' } })).toBeNull();
    expect(usageOf(null, 'text', [1, 2])).toBeNull();
  });

  it('cached tokens never exceed input tokens', () => {
    expect(usageOf({ usage: { prompt_tokens: 5, prompt_tokens_details: { cached_tokens: 9 } } })).toEqual({ inputTokens: 5, outputTokens: 0, cacheN: 5, promptN: 0 });
  });
});

describe('SseSplitter', () => {
  const stream = 'event: a\r\ndata: {"x":1}\r\n\r\ndata: é\n\ndata: line1\ndata: line2\r\rdata: [DONE]\n\n';

  it('cuts events at blank lines with LF, CRLF or CR, at any chunk boundary, keeping exact bytes', () => {
    const bytes = Buffer.from(stream, 'utf8');
    for (let size = 1; size <= bytes.length; size++) {
      const splitter = new SseSplitter();
      const events = [];
      for (let i = 0; i < bytes.length; i += size) events.push(...splitter.push(bytes.subarray(i, i + size)));
      events.push(...splitter.end());
      expect(events.map((event) => [event.event, event.data])).toEqual([
        ['a', '{"x":1}'],
        [null, 'é'],
        [null, 'line1\nline2'],
        [null, '[DONE]'],
      ]);
      expect(Buffer.concat(events.map((event) => event.raw)).equals(bytes)).toBe(true);
    }
  });

  it('returns an unterminated last event at the end; comments are not data', () => {
    const splitter = new SseSplitter();
    expect(splitter.push(Buffer.from(': ping\n\ndata: tail'))).toEqual([{ raw: Buffer.from(': ping\n\n'), event: null, data: null }]);
    expect(splitter.end().map((event) => event.data)).toEqual(['tail']);
  });
});

describe('inspectRequest', () => {
  it('adds include_usage to streamed chat and text completions, leaving every other byte', () => {
    const body = Buffer.from('{ "model": "m",\n  "stream": true, "seed": 12345678901234567890 }');
    const inspected = inspectRequest('/v1/chat/completions', body);
    expect(inspected).toMatchObject({ model: 'm', stripUsage: true });
    expect(inspected.body.toString()).toBe('{"stream_options":{"include_usage":true}, "model": "m",\n  "stream": true, "seed": 12345678901234567890 }');
    expect(inspectRequest('/v1/completions', Buffer.from('{"stream":true}')).body.toString()).toBe('{"stream_options":{"include_usage":true},"stream":true}');
  });

  it('leaves the body alone when not streamed, already asked, or another API', () => {
    for (const [path, text] of [
      ['/v1/chat/completions', '{"model":"m"}'],
      ['/v1/chat/completions', '{"stream":true,"stream_options":{"include_usage":true}}'],
      ['/v1/messages', '{"model":"m","stream":true}'],
      ['/v1/responses', '{"stream":true}'],
      ['/v1/chat/completions', 'not json'],
      ['/v1/chat/completions', '[1]'],
    ] as const) {
      const inspected = inspectRequest(path, Buffer.from(text));
      expect(inspected.body.toString()).toBe(text);
      expect(inspected.stripUsage).toBe(false);
    }
  });
});

describe('recordedPath', () => {
  it('POST on the recorded paths only, query and trailing slash ignored', () => {
    expect(recordedPath('POST', '/v1/chat/completions?x=1')).toBe('/v1/chat/completions');
    expect(recordedPath('POST', '/v1/embeddings/')).toBe('/v1/embeddings');
    expect(recordedPath('POST', '/rerank')).toBe('/rerank');
    expect(recordedPath('GET', '/v1/chat/completions')).toBeNull();
    expect(recordedPath('POST', '/v1/messages/count_tokens')).toBeNull();
    expect(recordedPath('POST', '/v1/models')).toBeNull();
  });
});

describe('ResponseReader in strip mode', () => {
  const read = (events: string[]) => {
    const reader = new ResponseReader({ sse: true, strip: true, maxBodyBytes: 1e6, log: () => undefined });
    const out = [...events.map((event) => reader.write(Buffer.from(event))), reader.end()];
    return { text: Buffer.concat(out).toString(), usage: reader.usage };
  };

  it('removes pretty-printed "usage": null and the usage-only chunk', () => {
    const { text, usage } = read([
      'data: {"choices": [{"delta": {"content": "hi"}, "finish_reason": null}], "usage": null}\n\n',
      'data: {"usage": null, "choices": [{"delta": {}, "finish_reason": "stop"}]}\n\n',
      'data: {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}\n\n',
      'data: [DONE]\n\n',
    ]);
    expect(text).toBe('data: {"choices": [{"delta": {"content": "hi"}, "finish_reason": null}]}\n\ndata: {"choices": [{"delta": {}, "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n');
    expect(usage).toEqual({ inputTokens: 3, outputTokens: 1, cacheN: 0, promptN: 3 });
  });

  it('passes what it cannot parse as it came', () => {
    const events = ['data: {broken\n\n', 'event: x\ndata: plain text\n\n', 'data: {"choices":[{"finish_reason":"stop"}]}\n\n'];
    expect(read(events)).toEqual({ text: events.join(''), usage: null });
  });
});
