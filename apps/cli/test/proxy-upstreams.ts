import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Replay } from './proxy-replays.js';

/** What a test upstream received. */
export interface Received {
  url: string;
  body: Buffer;
  /** The client (the proxy) closed the connection before the response was complete. */
  aborted: boolean;
}

export interface TestUpstream {
  url: string;
  requests: Received[];
  close(): Promise<void>;
}

const listen = async (server: net.Server): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

/**
 * An upstream that answers each POST with a replay: the one whose index the `x-replay` header names,
 * written one chunk per write as the real server writes it, its `withUsage` variant when the request
 * asks for `stream_options.include_usage`. `x-replay-hold-after: N` writes N chunks and then waits for
 * the client to leave (a stream the user stops). `GET /v1/models` lists `listedModel`.
 */
export async function startReplayUpstream(replays: readonly Replay[], listedModel: string): Promise<TestUpstream> {
  const requests: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received: Received = { url: req.url ?? '', body: Buffer.concat(chunks), aborted: false };
      requests.push(received);
      res.on('close', () => (received.aborted = !res.writableFinished));
      // The model list as llama-server answers GET /v1/models (its OpenAI `data` part).
      if (req.method === 'GET' && req.url === '/v1/models')
        return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: listedModel, object: 'model', created: 1757141666, owned_by: 'llamacpp' }] }));
      const replay = replays[Number(req.headers['x-replay'])];
      if (!replay) return void res.writeHead(404).end();
      let asked = false;
      try {
        asked = (JSON.parse(received.body.toString()) as { stream_options?: { include_usage?: unknown } }).stream_options?.include_usage === true;
      } catch {
        // not JSON: the plain replay
      }
      const body = asked && replay.withUsage ? replay.withUsage : replay.chunks;
      const holdAfter = Number(req.headers['x-replay-hold-after'] ?? Number.POSITIVE_INFINITY);
      if (body.length === 1 && holdAfter > 1) {
        res.writeHead(200, { 'Content-Type': replay.contentType, 'Content-Length': Buffer.byteLength(body[0]!) });
        return void res.end(body[0]);
      }
      res.writeHead(200, { 'Content-Type': replay.contentType });
      void (async () => {
        for (const [n, chunk] of body.entries()) {
          if (n === holdAfter || res.destroyed) return;
          res.write(chunk);
          await new Promise((resolve) => setImmediate(resolve));
        }
        if (Number.isFinite(holdAfter)) return;
        res.end();
      })();
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A minimal HTTP/1.1 server on raw sockets that behaves like uvicorn (under vLLM) towards kept-alive
 * connections: it closes a connection `idleMs` after its last response, and announces nothing
 * (no `Keep-Alive: timeout=` header that would let a client see it coming). Every request gets a
 * small chat completion with usage.
 */
export async function startIdleClosingUpstream(idleMs: number): Promise<TestUpstream & { connections: () => number }> {
  const requests: Received[] = [];
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    // Like uvicorn's keep-alive timer: armed when a response is complete, cleared by the next request.
    let idle: NodeJS.Timeout | null = null;
    const armIdle = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => socket.destroy(), idleMs);
    };
    socket.on('data', (data: Buffer) => {
      if (idle) clearTimeout(idle);
      buffered = Buffer.concat([buffered, data]);
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd === -1) return;
        const head = buffered.subarray(0, headEnd).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < headEnd + 4 + length) return;
        const body = buffered.subarray(headEnd + 4, headEnd + 4 + length);
        buffered = buffered.subarray(headEnd + 4 + length);
        requests.push({ url: head.split(' ')[1] ?? '', body, aborted: false });
        const answer = JSON.stringify({
          id: 'chatcmpl-idle',
          object: 'chat.completion',
          created: 1750000000,
          model: 'idle-model',
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 5, total_tokens: 6, completion_tokens: 1 },
        });
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(answer)}\r\n\r\n${answer}`);
        armIdle();
      }
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
