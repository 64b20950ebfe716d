import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { ResponseReader } from './llm-api.js';
import type { TokenUsage } from './usage.js';

/** The server requests are forwarded to. */
export interface Upstream {
  readonly url: URL;
  /** The upstream URL's path without its trailing slash, put before every forwarded path. */
  readonly basePath: string;
  readonly agent: http.Agent;
  readonly request: typeof http.request;
}

export function createUpstream(target: string | URL): Upstream {
  const url = new URL(target);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`The upstream must be an http: or https: URL, got ${url.href}`);
  if (url.search || url.hash) throw new TypeError(`The upstream URL must not have a query or fragment, got ${url.href}`);
  const secure = url.protocol === 'https:';
  const agent = new (secure ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
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
  /**
   * Read the response for token usage (recorded paths). `stream`: the client asked for a stream, so a
   * successful response that is not JSON is read as server-sent events whatever its content type.
   */
  read?: { strip: boolean; stream: boolean; maxBodyBytes: number };
  log: (message: string) => void;
}

export interface ForwardOutcome {
  /** The upstream's status, or 502 when it could not be reached. */
  status: number;
  /** `complete`: the whole response went to the client; `client-aborted`: the client left first; `upstream-failed`: no or a broken response. */
  end: 'complete' | 'client-aborted' | 'upstream-failed';
  /** Epoch seconds when the exchange ended. */
  endTime: number;
  /** The usage read (also a partial one when the client left), or null. */
  usage: TokenUsage | null;
}

/**
 * Forwards one request to the upstream and streams its response back chunk by chunk (headers flushed at
 * once for streams), honouring backpressure both ways. Resolves when the exchange is over; never rejects.
 */
export function forward(upstream: Upstream, req: IncomingMessage, res: ServerResponse, options: ForwardOptions): Promise<ForwardOutcome> {
  return new Promise((resolve) => {
    let reader: ResponseReader | null = null;
    let status = 502;
    let ended = false;
    const finish = (end: ForwardOutcome['end']) => {
      if (ended) return;
      ended = true;
      resolve({ status, end, endTime: Date.now() / 1000, usage: end === 'upstream-failed' || status >= 400 ? null : (reader?.usage ?? null) });
    };

    const body = options.body ?? alreadyReadBody(req);
    const headers = forwardableHeaders(req.rawHeaders, ['host', 'expect', ...(body ? ['content-length'] : [])]);
    headers.push('Host', upstream.url.host);
    if (body) headers.push('Content-Length', String(body.length));
    const upstreamReq = upstream.request({
      protocol: upstream.url.protocol,
      hostname: upstream.url.hostname.replace(/^\[|\]$/g, ''),
      port: upstream.url.port || undefined,
      method: req.method,
      path: upstream.basePath + requestTarget(req),
      headers,
      agent: upstream.agent,
    });

    res.on('close', () => {
      if (res.writableFinished) return;
      upstreamReq.destroy();
      finish('client-aborted');
    });

    upstreamReq.on('error', (error) => {
      if (ended) return;
      if (!res.headersSent) sendUnavailable(res, upstream, error);
      else res.destroy();
      finish('upstream-failed');
    });

    upstreamReq.on('response', (upstreamRes) => {
      status = upstreamRes.statusCode ?? 502;
      const contentType = String(upstreamRes.headers['content-type'] ?? '').toLowerCase();
      const sse = contentType.includes('text/event-stream') || (!!options.read?.stream && !contentType.includes('json'));
      const encoding = String(upstreamRes.headers['content-encoding'] ?? '').trim().toLowerCase();
      const decodable = encoding === '' || encoding === 'identity' || DECOMPRESSORS[encoding] !== undefined;
      const decode = decodable && encoding !== '' && encoding !== 'identity';
      const read = options.read && status < 400 && req.method !== 'HEAD' && decodable ? options.read : null;
      const strip = !!read && read.strip && sse;
      if (read) reader = new ResponseReader({ sse, strip, maxBodyBytes: read.maxBodyBytes, log: options.log });

      // Strip mode rewrites the body: it is sent decoded, so its length and encoding headers go.
      const drop = strip ? ['content-length', ...(decode ? ['content-encoding'] : [])] : [];
      writeHead(res, status, upstreamRes.statusMessage, forwardableHeaders(upstreamRes.rawHeaders, drop));
      if (sse || upstreamRes.headers['content-length'] === undefined) res.flushHeaders();

      // What the reader sees must be decoded. In strip mode the decoded bytes are also what is sent;
      // otherwise the bytes go on as they came and a decoder on the side feeds the reader.
      let source: Readable = upstreamRes;
      let sideDecoder: zlib.Gunzip | null = null;
      let decoded = Promise.resolve();
      if (reader && decode) {
        const decoder = DECOMPRESSORS[encoding]!();
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
    });

    if (body) upstreamReq.end(body);
    else req.pipe(upstreamReq);
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
  const headers: Record<string, string[]> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) (headers[rawHeaders[i]!] ??= []).push(rawHeaders[i + 1]!);
  res.writeHead(status, message, headers);
}

const DECOMPRESSORS: Record<string, (() => zlib.Gunzip) | undefined> = {
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};

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

/** Reads a request body whole; resolves null when the client went away first. */
export function readRequestBody(req: IncomingMessage): Promise<Buffer | null> {
  const consumed = alreadyReadBody(req);
  if (consumed) return Promise.resolve(consumed);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(null));
    req.on('close', () => {
      if (!req.complete) resolve(null);
    });
  });
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
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', () => resolve(null));
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
