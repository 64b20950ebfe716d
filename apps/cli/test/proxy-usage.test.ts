import { describe, expect, it } from 'vitest';
import { API_FAMILIES, type ApiFamily, RECORDED_PATHS, apiOf } from '../src/proxy/apis.js';
import { NdjsonSplitter, SseSplitter } from '../src/proxy/framing.js';
import { withIncludeUsage, withoutMember } from '../src/proxy/json-edit.js';
import { ResponseReader, inspectRequest } from '../src/proxy/llm-api.js';
import { type TokenUsage, anthropicUsage, llamaCppUsage, ollamaUsage, openAiUsage, readDocument, responsesUsage } from '../src/proxy/usage.js';

const family = (id: string): ApiFamily => API_FAMILIES.find((candidate) => candidate.id === id)!;
const tokens = (inputTokens: number, outputTokens: number, cacheN = 0, promptN = inputTokens - cacheN): TokenUsage => ({ inputTokens, outputTokens, cacheN, promptN });

/** Reads documents in order, as a stream's events are read. */
const readAll = (reader: typeof openAiUsage, ...documents: unknown[]) => documents.reduce<TokenUsage | null>((known, document) => readDocument(reader, document, known), null);

describe('usage readers', () => {
  it('llama.cpp timings with cache_n win over usage: input = cache_n + prompt_n', () => {
    expect(readAll(openAiUsage, { usage: { prompt_tokens: 120, completion_tokens: 9 }, timings: { cache_n: 100, prompt_n: 20, predicted_n: 7 } })).toEqual(tokens(120, 7, 100, 20));
  });

  it('ik_llama.cpp timings without cache_n: the cached part is prompt_tokens - prompt_n', () => {
    const final = { usage: { completion_tokens: 50, prompt_tokens: 4000, total_tokens: 4050 }, timings: { prompt_n: 100, prompt_ms: 80.1, predicted_n: 50, predicted_ms: 900, n_ctx: 8192, n_past: 4050 } };
    expect(readAll(openAiUsage, final)).toEqual(tokens(4000, 50, 3900, 100));
    // A stream cut before its last chunk (timings_per_token): only the processed part is known, never more than the finished one.
    const partial = { choices: [{ delta: { content: 'x' } }], timings: { prompt_n: 100, prompt_ms: 80.1, predicted_n: 10, predicted_ms: 180, n_ctx: 8192, n_past: 4010 } };
    const cut = readAll(openAiUsage, partial)!;
    expect(cut).toEqual(tokens(100, 10, 0, 100));
    const whole = readAll(openAiUsage, partial, final)!;
    for (const key of ['inputTokens', 'outputTokens', 'cacheN', 'promptN'] as const) expect(cut[key]).toBeLessThanOrEqual(whole[key]);
  });

  it('OpenAI usage: cached_tokens are part of prompt_tokens and never exceed them; total_tokens alone is input', () => {
    expect(readAll(openAiUsage, { usage: { prompt_tokens: 50, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 32 } } })).toEqual(tokens(50, 5, 32, 18));
    expect(readAll(openAiUsage, { usage: { prompt_tokens: 5, prompt_tokens_details: { cached_tokens: 9 } } })).toEqual(tokens(5, 0, 5, 0));
    expect(readAll(openAiUsage, { usage: { total_tokens: 56 } })).toEqual(tokens(56, 0));
  });

  it('a stream: the last document with counts wins; documents without keep what is known', () => {
    expect(readAll(openAiUsage, { usage: { prompt_tokens: 3, completion_tokens: 1 } }, { choices: [] }, { usage: { prompt_tokens: 3, completion_tokens: 4 } }, { usage: {} })).toEqual(tokens(3, 4));
    expect(readAll(openAiUsage, { choices: [] }, 'text', [1, 2], null)).toBeNull();
    expect(readAll(openAiUsage, { usage: { prompt_tokens: -3, completion_tokens: 'many' } })).toEqual(tokens(0, 0));
  });

  it('Responses: usage at top level or in response.completed', () => {
    const usage = { input_tokens: 40, input_tokens_details: { cached_tokens: 30 }, output_tokens: 9, total_tokens: 49 };
    expect(readAll(responsesUsage, { object: 'response', usage })).toEqual(tokens(40, 9, 30, 10));
    expect(readAll(responsesUsage, { type: 'response.created', response: { usage: null } }, { type: 'response.completed', response: { usage } })).toEqual(tokens(40, 9, 30, 10));
  });

  it('Anthropic: cache reads and writes add to input_tokens; message_delta brings the output', () => {
    const start = { type: 'message_start', message: { usage: { input_tokens: 10, cache_creation_input_tokens: 200, cache_read_input_tokens: 1000, output_tokens: 1 } } };
    expect(readAll(anthropicUsage, start, { type: 'message_delta', usage: { output_tokens: 77 } })).toEqual(tokens(1210, 77, 1000, 210));
    expect(readAll(anthropicUsage, start)).toEqual(tokens(1210, 1, 1000, 210));
  });

  it('Ollama: prompt_eval_count and eval_count; an OpenAI-shaped /api/chat answer (llama-server) read as such', () => {
    expect(readAll(ollamaUsage, { done: false }, { done: true, prompt_eval_count: 26, eval_count: 282 })).toEqual(tokens(26, 282));
    expect(readAll(ollamaUsage, { model: 'all-minilm', embeddings: [[0.1]], prompt_eval_count: 8 })).toEqual(tokens(8, 0));
    expect(readAll(ollamaUsage, { embedding: [0.5] })).toBeNull();
    expect(readAll(ollamaUsage, { usage: { prompt_tokens: 7, completion_tokens: 2 } })).toEqual(tokens(7, 2));
  });

  it("llama.cpp's own API: tokens_evaluated/tokens_predicted per chunk, timings on the last; arrays are summed", () => {
    const partial = { content: 'x', stop: false, tokens_predicted: 3, tokens_evaluated: 12 };
    expect(readAll(llamaCppUsage, partial)).toEqual(tokens(12, 3));
    expect(readAll(llamaCppUsage, partial, { stop: true, tokens_predicted: 5, tokens_evaluated: 12, tokens_cached: 16, timings: { cache_n: 8, prompt_n: 4, predicted_n: 5 } })).toEqual(tokens(12, 5, 8, 4));
    // ik_llama.cpp: no cache_n; tokens_evaluated is the whole prompt.
    expect(readAll(llamaCppUsage, { stop: true, tokens_predicted: 5, tokens_evaluated: 12, timings: { prompt_n: 4, predicted_n: 5 } })).toEqual(tokens(12, 5, 8, 4));
    expect(readAll(llamaCppUsage, [{ tokens_evaluated: 3, tokens_predicted: 1 }, { tokens_evaluated: 4, tokens_predicted: 2 }])).toEqual(tokens(7, 3));
    expect(readAll(llamaCppUsage, [{ index: 0, embedding: [[0.1]] }])).toBeNull();
  });
});

describe('json-edit', () => {
  it('cuts a member with its comma, compact or pretty, first, middle, last or alone', () => {
    const cut = (text: string, key = 'usage') => withoutMember(Buffer.from(text), 0, key)?.toString() ?? null;
    expect(cut('{"a":1,"usage":null,"b":2}')).toBe('{"a":1,"b":2}');
    expect(cut('{"usage": {"x": [1, "}"]}, "b": 2}')).toBe('{"b": 2}');
    expect(cut('{"a": 1,\n  "usage": null\n}')).toBe('{"a": 1\n}');
    expect(cut('{ "usage" : 0 }')).toBe('{  }');
    expect(cut('{"a":"usage","b":{"usage":1}}')).toBeNull();
    expect(cut('{"a":1,"usage":1,"usage":2}')).toBe('{"a":1}');
    expect(cut('{"a":"\\"usage\\":1","usage":1}')).toBe('{"a":"\\"usage\\":1"}');
  });

  it('sets stream_options.include_usage without touching any other byte', () => {
    const set = (text: string) => withIncludeUsage(Buffer.from(text))?.toString() ?? null;
    expect(set('{}')).toBe('{"stream_options":{"include_usage":true}}');
    expect(set(' {"stream":true, "seed": 12345678901234567890}')).toBe(' {"stream_options":{"include_usage":true},"stream":true, "seed": 12345678901234567890}');
    expect(set('{"seed":12345678901234567890,"stream_options":{"include_usage":false}}')).toBe('{"seed":12345678901234567890,"stream_options":{"include_usage":true}}');
    expect(set('{"seed":12345678901234567890,"stream_options":{ "include_usage" : null , "x":1}}')).toBe('{"seed":12345678901234567890,"stream_options":{ "include_usage" : true , "x":1}}');
    expect(set('{"stream_options":{"continuous_usage_stats":true},"seed":1.50}')).toBe('{"stream_options":{"include_usage":true,"continuous_usage_stats":true},"seed":1.50}');
    expect(set('{"stream_options":{},"n":1e400}')).toBe('{"stream_options":{"include_usage":true},"n":1e400}');
    expect(set('{"stream_options":null,"text":"é\\u00e9"}')).toBe('{"stream_options":{"include_usage":true},"text":"é\\u00e9"}');
    expect(set('[1]')).toBeNull();
    expect(set('{"a":')).toBeNull();
  });
});

describe('inspectRequest', () => {
  const chat = family('chat_completions');

  it('asks for usage on streamed chat and text completions, editing bytes only', () => {
    const body = Buffer.from('{ "model": "m",\n  "stream": true, "seed": 12345678901234567890 }');
    const inspected = inspectRequest(chat, body);
    expect(inspected).toMatchObject({ model: 'm', stream: true, stripUsage: true });
    expect(inspected.body.toString()).toBe('{"stream_options":{"include_usage":true}, "model": "m",\n  "stream": true, "seed": 12345678901234567890 }');
    for (const options of ['{"include_usage":false}', '{"include_usage":null}', 'null']) {
      const text = `{"model":"m","stream":true,"seed":12345678901234567890,"stream_options":${options}}`;
      const edited = inspectRequest(family('completions'), Buffer.from(text));
      expect(edited.stripUsage).toBe(true);
      expect(edited.body.toString()).toContain('"seed":12345678901234567890');
      expect(JSON.parse(edited.body.toString()).stream_options.include_usage).toBe(true);
    }
  });

  it('leaves the body alone when not streamed, already asked, another API, or not a JSON object', () => {
    for (const [id, text] of [
      ['chat_completions', '{"model":"m"}'],
      ['chat_completions', '{"stream":true,"stream_options":{"include_usage":true}}'],
      ['messages', '{"model":"m","stream":true}'],
      ['responses', '{"stream":true}'],
      ['ollama_chat', '{"model":"llama3.2"}'],
      ['llamacpp_completion', '{"prompt":"x","stream":true}'],
      ['chat_completions', 'not json'],
      ['chat_completions', '[1]'],
    ] as const) {
      const inspected = inspectRequest(family(id), Buffer.from(text));
      expect(inspected.body.toString()).toBe(text);
      expect(inspected.stripUsage).toBe(false);
    }
  });

  it('Ollama streams unless the body says "stream": false', () => {
    expect(inspectRequest(family('ollama_chat'), Buffer.from('{"model":"llama3.2"}')).stream).toBe(true);
    expect(inspectRequest(family('ollama_generate'), Buffer.from('{"model":"llama3.2","stream":false}')).stream).toBe(false);
    expect(inspectRequest(chat, Buffer.from('{"model":"m"}')).stream).toBe(false);
  });

  it('model names that are Object.prototype keys are names like any other', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty'])
      expect(inspectRequest(chat, Buffer.from(JSON.stringify({ model: name }))).model).toBe(name);
    expect(inspectRequest(chat, Buffer.from('{"__proto__":"x","model":"__proto__"}')).model).toBe('__proto__');
  });
});

describe('apiOf and the table', () => {
  it('POST on a recorded path only, query and trailing slash ignored', () => {
    expect(apiOf('POST', '/v1/chat/completions?x=1')?.family.id).toBe('chat_completions');
    expect(apiOf('POST', '/v1/embeddings/')?.path).toBe('/v1/embeddings');
    expect(apiOf('POST', '/api/chat')?.family.id).toBe('ollama_chat');
    expect(apiOf('POST', '/infill')?.family.id).toBe('llamacpp_completion');
    expect(apiOf('POST', '/api/v0/chat/completions')?.family.id).toBe('chat_completions');
    expect(apiOf('GET', '/v1/chat/completions')).toBeNull();
    expect(apiOf('POST', '/v1/messages/count_tokens')).toBeNull();
    expect(apiOf('POST', '/api/show')).toBeNull();
  });

  it('every path belongs to one family', () => {
    expect(new Set(RECORDED_PATHS).size).toBe(RECORDED_PATHS.length);
    expect(new Set(API_FAMILIES.map((api) => api.id)).size).toBe(API_FAMILIES.length);
  });
});

describe('SseSplitter and NdjsonSplitter', () => {
  const stream = 'event: a\r\ndata: {"x":1}\r\n\r\ndata: é\n\ndata: line1\ndata: line2\r\rdata: [DONE]\n\n';

  it('SSE: cuts events at blank lines with LF, CRLF or CR, at any chunk boundary, keeping exact bytes', () => {
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

  it('SSE: an unterminated last event comes at the end; comments are not data', () => {
    const splitter = new SseSplitter();
    expect(splitter.push(Buffer.from(': ping\n\ndata: tail'))).toEqual([{ raw: Buffer.from(': ping\n\n'), event: null, data: null }]);
    expect(splitter.end().map((event) => event.data)).toEqual(['tail']);
  });

  it('NDJSON: lines at any chunk boundary, CRLF or LF, blank lines skipped, an unterminated last line kept', () => {
    const bytes = Buffer.from('{"a":"é"}\n\r\n{"b":2}\r\n{"c":3}', 'utf8');
    for (let size = 1; size <= bytes.length; size++) {
      const splitter = new NdjsonSplitter();
      const lines = [];
      for (let i = 0; i < bytes.length; i += size) lines.push(...splitter.push(bytes.subarray(i, i + size)));
      lines.push(...splitter.end());
      expect(lines).toEqual(['{"a":"é"}', '{"b":2}', '{"c":3}']);
    }
  });
});

describe('ResponseReader in strip mode', () => {
  const read = (events: string[], id = 'chat_completions') => {
    const reader = new ResponseReader({ family: family(id), framing: 'sse', strip: true, maxBodyBytes: 1e6, log: () => undefined });
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
    expect(usage).toEqual(tokens(3, 1));
  });

  it("removes Ollama's zero usage object from every chunk, whatever its value", () => {
    // Ollama middleware/openai.go (CompleteWriter): with include_usage, `c.Usage = &openai.Usage{}` on every chunk.
    const zero = '"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}';
    const { text, usage } = read([
      `data: {"id":"cmpl-1","object":"text_completion","created":1,"choices":[{"text":"Hi","index":0,"finish_reason":null}],"model":"llama3.2","system_fingerprint":"fp_ollama",${zero}}\n\n`,
      `data: {"id":"cmpl-1","object":"text_completion","created":1,"choices":[{"text":"","index":0,"finish_reason":"stop"}],"model":"llama3.2","system_fingerprint":"fp_ollama",${zero}}\n\n`,
      'data: {"id":"cmpl-1","object":"text_completion","created":1,"choices":[],"model":"llama3.2","system_fingerprint":"fp_ollama","usage":{"prompt_tokens":26,"completion_tokens":2,"total_tokens":28}}\n\n',
      'data: [DONE]\n\n',
    ], 'completions');
    expect(text).not.toContain('usage');
    expect(text).toContain('"system_fingerprint":"fp_ollama"}\n\n');
    expect(usage).toEqual(tokens(26, 2));
  });

  it('moves llama.cpp timings from the usage-only chunk back onto the finish chunk', () => {
    const { text } = read([
      'data: {"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"created":1,"id":"c","model":"m","object":"chat.completion.chunk"}\n\n',
      'data: {"choices":[],"created":1,"id":"c","model":"m","object":"chat.completion.chunk","usage":{"completion_tokens":1,"prompt_tokens":2,"total_tokens":3},"timings":{"cache_n":0,"prompt_n":2,"predicted_n":1}}\n\n',
      'data: [DONE]\n\n',
    ]);
    expect(text).toBe(
      'data: {"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"created":1,"id":"c","model":"m","object":"chat.completion.chunk","timings":{"cache_n":0,"prompt_n":2,"predicted_n":1}}\n\ndata: [DONE]\n\n',
    );
  });

  it('passes what it cannot parse as it came', () => {
    const events = ['data: {broken\n\n', 'event: x\ndata: plain text\n\n', 'data: {"choices":[{"finish_reason":"stop"}]}\n\n'];
    expect(read(events)).toEqual({ text: events.join(''), usage: null });
  });

  it('gives up rewriting, byte for byte, on an event larger than maxBodyBytes', () => {
    const reader = new ResponseReader({ family: family('chat_completions'), framing: 'sse', strip: true, maxBodyBytes: 100, log: () => undefined });
    const big = `data: {"x":"${'a'.repeat(200)}"`;
    const out = Buffer.concat([reader.write(Buffer.from('data: {"usage":null,"choices":[]}\n\n')), reader.write(Buffer.from(big)), reader.write(Buffer.from('}\n\n')), reader.end()]);
    expect(out.toString()).toBe(`${big}}\n\n`);
    expect(reader.unreadable).toBe(true);
  });
});

describe('createRecordingProxy options', () => {
  it('a limit that is not a number above 0 is a TypeError naming it', async () => {
    const { createRecordingProxy } = await import('../src/index.js');
    const monitor = {} as Parameters<typeof createRecordingProxy>[0]['monitor'];
    for (const [name, value, what] of [
      ['maxRequestBytes', 0, 'a finite number'],
      ['modelIdleMs', -1, 'a number'],
      ['maxNewModelsPerMinute', Number.NaN, 'a number'],
      ['heartbeatMs', '10', 'a finite number'],
      ['heartbeatMs', Number.POSITIVE_INFINITY, 'a finite number'],
    ] as const)
      expect(() => createRecordingProxy({ upstream: 'http://127.0.0.1:1', monitor, [name]: value } as never)).toThrow(new TypeError(`createRecordingProxy: ${name} must be ${what} above 0, got ${String(value)}`));
    expect(() => createRecordingProxy({ upstream: 'http://127.0.0.1:1', monitor, modelIdleMs: Number.POSITIVE_INFINITY, maxNewModelsPerMinute: Number.POSITIVE_INFINITY })).not.toThrow();
  });
});
