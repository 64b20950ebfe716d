import http, { type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { ApiFamily } from './apis.js';
import { ResponseReader, framingOf } from './llm-api.js';

/** The server requests are forwarded to. */
export interface Upstream {
  readonly url: URL;
  /** The upstream URL's path without its trailing slash, put before every forwarded path. */
  readonly basePath: string;
  readonly agent: http.Agent;
  readonly request: typeof http.request;
}

export interface UpstreamOptions {
  /**
   * How long an idle kept-alive connection to the upstream stays open. It must be below the
   * upstream's own idle timeout (uvicorn, under vLLM: 5 s; llama-server: 5 s), or the upstream may close
   * a connection just as a request goes out on it. (That race is also retried, see `forward`.)
   */
  idleTimeoutMs: number;
  /** Connections to the upstream at most; further requests wait for one. */
  maxSockets: number;
}

export function createUpstream(target: string | URL, options: UpstreamOptions): Upstream {
  const url = new URL(target);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`The upstream must be an http: or https: URL, got ${url.href}`);
  if (url.search || url.hash) throw new TypeError(`The upstream URL must not have a query or fragment, got ${url.href}`);
  const secure = url.protocol === 'https:';
  const agent = new (secure ? https.Agent : http.Agent)({
    keepAlive: true,
    // The idle timeout of pooled sockets (Node lowers it further when the upstream sends Keep-Alive: timeout=N).
    timeout: options.idleTimeoutMs,
    maxSockets: options.maxSockets,
    maxFreeSockets: Math.min(options.maxSockets, 256),
  });
  return { url, basePath: url.pathname.replace(/\/+$/, ''), agent, request: secure ? https.request : http.request };
}

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus those the proxy sets itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** `rawHeaders` (name, value, name, value…) minus hop-by-hop headers, those the Connection header names, and `drop`. */
function forwardableHeaders(rawHeaders: readonly string[], drop: readonly string[]): string[] {
  const excluded = new Set([...HOP_BY_HOP, ...drop]);
  for (let i = 0; i < rawHeaders.length; i += 2)
    if (rawHeaders[i]!.toLowerCase() === 'connection') for (const name of rawHeaders[i + 1]!.split(',')) excluded.add(name.trim().toLowerCase());
  const kept: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (!excluded.has(rawHeaders[i]!.toLowerCase())) kept.push(rawHeaders[i]!, rawHeaders[i + 1]!);
  return kept;
}

/**
 * The request's path and query. An absolute-form target (`POST http://host/v1/…`, as clients configured
 * with the proxy as their HTTP proxy send) gives its path and query.
 */
export function requestTarget(req: IncomingMessage): string {
  const target = req.url ?? '/';
  if (target.startsWith('/')) return target;
  try {
    const url = new URL(target);
    return url.pathname + url.search;
  } catch {
    return `/${target}`;
  }
}

export interface ForwardOptions {
  /** The request body to send; without it the client's request stream is piped as it arrives. */
  body?: Buffer;
  /** Read the response for token usage (recorded paths). `stream`: the client asked for a stream. */
  read?: { family: ApiFamily; strip: boolean; stream: boolean; maxBodyBytes: number };
  /** The largest request body forwarded; a larger one is answered with 413. */
  maxRequestBytes: number;
  log: (message: string) => void;
  /** Called when the upstream's response headers arrive; `streamed` as in the outcome. */
  onResponse?: (streamed: boolean) => void;
}

export interface ForwardOutcome {
  /** The upstream's status; 502 when it could not be reached, 413 when the proxy refused the body. */
  status: number;
  /**
   * `complete`: the whole response went to the client; `client-aborted`: the client left first;
   * `upstream-failed`: no response, or one that broke off; `refused`: the proxy answered 413.
   */
  end: 'complete' | 'client-aborted' | 'upstream-failed' | 'refused';
  /** Epoch seconds when the exchange ended. */
  endTime: number;
  /** Milliseconds from sending the request to the upstream's response headers, or null when none came. */
  headersMs: number | null;
  /** The reader of a recorded response (its usage, also a partial one), or null. */
  reader: ResponseReader | null;
  /** The response was read as a stream of events or lines. */
  streamed: boolean;
  /** The request failed on a reused upstream connection before any response and was sent again. */
  retried: boolean;
}

/** Errors of a kept-alive connection the upstream closed as the request went out. */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE']);

/** A streamed request body is kept for a resend on a fresh connection up to this size. */
const REPLAY_LIMIT = 1024 * 1024;

/**
 * Forwards one request to the upstream and streams its response back chunk by chunk (headers flushed at
 * once for streams), honouring backpressure both ways. A request that fails on a reused kept-alive
 * connection before any byte of the response arrived is sent once more on a fresh connection (Node's
 * documented `reusedSocket` pattern). Resolves when the exchange is over; never rejects.
 */
export function forward(upstream: Upstream, req: IncomingMessage, res: ServerResponse, options: ForwardOptions): Promise<ForwardOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    let reader: ResponseReader | null = null;
    let streamed = false;
    let status = 502;
    let headersMs: number | null = null;
    let retried = false;
    let ended = false;
    let current: ClientRequest;
    const finish = (end: ForwardOutcome['end']) => {
      if (ended) return;
      ended = true;
      resolve({ status, end, endTime: Date.now() / 1000, headersMs, reader, streamed, retried });
    };

    const fixed = options.body ?? alreadyReadBody(req);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (!fixed && declared > options.maxRequestBytes) {
      status = 413;
      refuseBody(req, res, options.maxRequestBytes);
      return finish('refused');
    }
    const headers = forwardableHeaders(req.rawHeaders, ['host', 'expect', ...(fixed ? ['content-length'] : [])]);
    headers.push('Host', upstream.url.host);
    if (fixed) headers.push('Content-Length', String(fixed.length));

    // A streamed body: counted against the limit, and kept (while small) for a resend.
    const sent: Buffer[] = [];
    let sentBytes = 0;
    let replayable = true;
    let bodyEnded = false;
    if (!fixed) {
      const onData = (chunk: Buffer) => {
        sentBytes += chunk.length;
        if (sentBytes > options.maxRequestBytes) {
          req.off('data', onData);
          current.destroy();
          status = 413;
          refuseBody(req, res, options.maxRequestBytes);
          return finish('refused');
        }
        if (replayable && sentBytes <= REPLAY_LIMIT) sent.push(chunk);
        else {
          replayable = false;
          sent.length = 0;
        }
        if (!current.write(chunk)) req.pause();
      };
      req.on('data', onData);
      req.on('end', () => {
        bodyEnded = true;
        if (!ended) current.end();
      });
    }

    const send = () => {
      const upstreamReq = upstream.request({
        protocol: upstream.url.protocol,
        hostname: upstream.url.hostname.replace(/^\[|\]$/g, ''),
        port: upstream.url.port || undefined,
        method: req.method,
        path: upstream.basePath + requestTarget(req),
        headers,
        agent: upstream.agent,
      });
      current = upstreamReq;
      upstreamReq.on('drain', () => req.resume());
      upstreamReq.on('error', (error: NodeJS.ErrnoException) => {
        if (ended || upstreamReq !== current) return;
        if (!retried && upstreamReq.reusedSocket && headersMs === null && STALE_CONNECTION.has(error.code ?? '') && (fixed || replayable)) {
          retried = true;
          // The other idle connections waited at least as long as this one: the resend must open a new one.
          for (const sockets of Object.values(upstream.agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
          return send();
        }
        if (!res.headersSent) sendUnavailable(res, upstream, error);
        else res.destroy();
        finish('upstream-failed');
      });
      upstreamReq.on('response', (upstreamRes) => respond(upstreamRes));
      if (fixed) upstreamReq.end(fixed);
      else {
        for (const chunk of sent) upstreamReq.write(chunk);
        if (bodyEnded) upstreamReq.end();
        else req.resume();
      }
    };

    res.on('close', () => {
      if (res.writableFinished) return;
      current.destroy();
      finish('client-aborted');
    });

    const respond = (upstreamRes: IncomingMessage) => {
      headersMs = performance.now() - started;
      status = upstreamRes.statusCode ?? 502;
      const contentType = String(upstreamRes.headers['content-type'] ?? '');
      const encoding = String(upstreamRes.headers['content-encoding'] ?? '').trim().toLowerCase();
      const decodable = encoding === '' || encoding === 'identity' || DECOMPRESSORS.has(encoding);
      const decode = decodable && encoding !== '' && encoding !== 'identity';
      const read = options.read && status < 400 && req.method !== 'HEAD' && decodable ? options.read : null;
      const framing = options.read ? framingOf(contentType, options.read.family, options.read.stream) : 'json';
      streamed = framing !== 'json';
      options.onResponse?.(streamed);
      const strip = !!read && read.strip && framing === 'sse';
      if (read) reader = new ResponseReader({ family: read.family, framing, strip, maxBodyBytes: read.maxBodyBytes, log: options.log });

      // Strip mode rewrites the body: it is sent decoded, so its length and encoding headers go.
      const drop = strip ? ['content-length', ...(decode ? ['content-encoding'] : [])] : [];
      writeHead(res, status, upstreamRes.statusMessage, forwardableHeaders(upstreamRes.rawHeaders, drop));
      if (streamed || contentType.includes('event-stream') || upstreamRes.headers['content-length'] === undefined) res.flushHeaders();

      // What the reader sees must be decoded. In strip mode the decoded bytes are also what is sent;
      // otherwise the bytes go on as they came and a decoder on the side feeds the reader.
      let source: Readable = upstreamRes;
      let sideDecoder: zlib.Gunzip | null = null;
      let decoded = Promise.resolve();
      if (reader && decode) {
        const decoder = DECOMPRESSORS.get(encoding)!();
        if (strip) {
          source = upstreamRes.pipe(decoder);
        } else {
          sideDecoder = decoder;
          decoded = new Promise((done) => {
            decoder.on('data', (chunk: Buffer) => reader?.write(chunk));
            decoder.on('end', done);
            decoder.on('error', (error) => {
              options.log(`could not decode a ${encoding} response to read its usage: ${error.message}`);
              reader = null;
              done();
            });
          });
        }
      }

      source.on('data', (chunk: Buffer) => {
        let out = chunk;
        if (sideDecoder) sideDecoder.write(chunk);
        else if (reader) out = reader.write(chunk);
        if (out.length > 0 && !res.write(out)) source.pause();
      });
      res.on('drain', () => source.resume());
      source.on('end', () => {
        if (strip) {
          const tail = reader?.end();
          if (tail && tail.length > 0) res.write(tail);
        }
        res.end();
        sideDecoder?.end();
        void decoded.then(() => {
          if (!strip) reader?.end();
          finish('complete');
        });
      });
      const broken = (error?: Error) => {
        if (ended) return;
        if (error) options.log(`the upstream response broke off: ${error.message}`);
        res.destroy();
        finish('upstream-failed');
      };
      if (source !== upstreamRes) source.on('error', broken);
      upstreamRes.on('error', broken);
      upstreamRes.on('close', () => {
        if (!upstreamRes.complete) broken();
      });
    };

    send();
  });
}

/**
 * Writes the status and the upstream's headers, names spelled as the upstream spelled them. When a
 * framework has already set headers on `res` (Express's `X-Powered-By`), they are merged, and repeated
 * headers (`Set-Cookie`) stay repeated.
 */
function writeHead(res: ServerResponse, status: number, message: string | undefined, rawHeaders: string[]): void {
  if (res.getHeaderNames().length === 0) {
    res.writeHead(status, message, rawHeaders);
    return;
  }
  const headers = new Map<string, string[]>();
  for (let i = 0; i < rawHeaders.length; i += 2) headers.set(rawHeaders[i]!, [...(headers.get(rawHeaders[i]!) ?? []), rawHeaders[i + 1]!]);
  res.writeHead(status, message, Object.fromEntries(headers));
}

const DECOMPRESSORS = new Map<string, () => zlib.Gunzip>([
  ['gzip', () => zlib.createGunzip()],
  ['x-gzip', () => zlib.createGunzip()],
  ['deflate', () => zlib.createInflate()],
  ['br', () => zlib.createBrotliDecompress()],
]);

/**
 * The body of a request that a body parser (say `express.json()`) consumed before the proxy saw it,
 * rebuilt from `req.body`; undefined when the stream is still unread.
 */
function alreadyReadBody(req: IncomingMessage): Buffer | undefined {
  if (!req.readableEnded) return undefined;
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (parsed === undefined || parsed === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(parsed)) return parsed;
  if (typeof parsed === 'string') return Buffer.from(parsed, 'utf8');
  return Buffer.from(JSON.stringify(parsed), 'utf8');
}

/**
 * Reads a request body whole, up to `maxBytes`: `too-large` (after answering 413, without reading the
 * rest) when it is larger, as its Content-Length says or as it arrives; null when the client went away.
 */
export function readRequestBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<Buffer | 'too-large' | null> {
  const consumed = alreadyReadBody(req);
  if (consumed) return Promise.resolve(consumed);
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
    refuseBody(req, res, maxBytes);
    return Promise.resolve('too-large');
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= maxBytes) return chunks.push(chunk);
      req.off('data', onData);
      chunks.length = 0;
      refuseBody(req, res, maxBytes);
      resolve('too-large');
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(null));
    req.on('close', () => {
      if (!req.complete) resolve(null);
    });
  });
}

/** After a 413, the rest of the body is read and dropped for this long, or this much, before the connection is cut. */
const LINGER_MS = 2_000;
const LINGER_BYTES = 16 * 1024 * 1024;

/**
 * Answers 413 and closes the connection, never keeping the rest of the body. The close lingers
 * (as nginx's does): the proxy ends its side after the answer and reads and drops what the client
 * still sends for a moment, so the client reads the 413 instead of a connection reset; a client
 * that goes on sending is cut off.
 */
function refuseBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): void {
  if (res.headersSent) return void res.destroy();
  const socket = req.socket as IncomingMessage['socket'] & { destroySoon?: () => void };
  let dropped = 0;
  const cut = setTimeout(() => socket.destroy(), LINGER_MS);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
  // Node closes a `Connection: close` response's socket at once (destroySoon); end only the sending side.
  socket.destroySoon = () => socket.end();
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) socket.destroy();
  });
  req.resume();
  const body = JSON.stringify({
    error: { message: `The request body is larger than this proxy accepts (${maxBytes} bytes).`, type: 'request_too_large' },
  });
  res.writeHead(413, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
  res.end(body);
}

function sendUnavailable(res: ServerResponse, upstream: Upstream, error: Error): void {
  const body = JSON.stringify({
    error: { message: `The upstream ${upstream.url.origin} is unavailable: ${error.message}`, type: 'upstream_unavailable' },
  });
  res.writeHead(502, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * The first model the upstream lists at `/v1/models` (OpenAI `data[].id`), or null when it cannot say.
 * The client's credentials go along, as a remote API wants them.
 */
export function fetchFirstModel(upstream: Upstream, clientHeaders: IncomingMessage['headers']): Promise<string | null> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { Host: upstream.url.host, Accept: 'application/json' };
    for (const name of ['authorization', 'x-api-key', 'anthropic-version']) {
      const value = clientHeaders[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const request = upstream.request(
      {
        protocol: upstream.url.protocol,
        hostname: upstream.url.hostname.replace(/^\[|\]$/g, ''),
        port: upstream.url.port || undefined,
        method: 'GET',
        path: `${upstream.basePath}/v1/models`,
        headers,
        agent: upstream.agent,
        timeout: 10_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes <= 1024 * 1024) chunks.push(chunk);
          else response.destroy();
        });
        response.on('error', () => resolve(null));
        response.on('close', () => resolve(null));
        response.on('end', () => {
          try {
            const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: { id?: unknown }[] };
            const id = response.statusCode === 200 ? json.data?.[0]?.id : undefined;
            resolve(typeof id === 'string' && id !== '' ? id : null);
          } catch {
            resolve(null);
          }
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', () => resolve(null));
    request.end();
  });
}
