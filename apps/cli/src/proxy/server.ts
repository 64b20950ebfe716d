import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ProxyServerOptions {
  /**
   * Client connections open at once, at most. When all are taken, a new connection closes the oldest
   * one that has no request in flight (it sent nothing yet, or waits between requests); when every
   * connection is busy, the new one is closed. Default: half of what the process may open (its open
   * files limit, less a reserve), each client connection needing one to the upstream too; at most 4096.
   */
  maxConnections?: number;
  /** Time for a client to send the request headers, counted from the connection (also when it sends nothing). Default 15 000 ms. */
  headersTimeoutMs?: number;
  /** Time for a client to send the whole request. Default 120 000 ms. */
  requestTimeoutMs?: number;
  /** How long a kept-alive client connection may wait for its next request. Default 5 000 ms. */
  keepAliveTimeoutMs?: number;
}

/**
 * An HTTP server for a recording proxy (or any handler) with the limits a server facing unknown clients
 * needs: header, request and idle timeouts, and a connection cap that keeps serving real clients when
 * idle connections pile up (1,100 idle sockets against a 1,024 open-files limit would otherwise stop
 * every accept). Responses have no time limit: an LLM can think for minutes before its first token.
 */
export function createProxyServer(handler: (req: IncomingMessage, res: ServerResponse) => void, options: ProxyServerOptions = {}): http.Server {
  const headersTimeout = options.headersTimeoutMs ?? 15_000;
  const maxConnections = options.maxConnections ?? defaultMaxConnections();
  const server = http.createServer(
    {
      headersTimeout,
      requestTimeout: Math.max(options.requestTimeoutMs ?? 120_000, headersTimeout),
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
      // How often Node checks the header and request timeouts (default 30 s).
      connectionsCheckingInterval: Math.min(1_000, headersTimeout),
    },
    handler,
  );

  /** Open client connections, oldest first, and whether each has a request in flight. */
  const connections = new Map<Socket, { busy: number }>();
  server.on('connection', (socket: Socket) => {
    if (connections.size >= maxConnections) {
      const idle = [...connections].find(([, state]) => state.busy === 0)?.[0];
      if (!idle) return void socket.destroy();
      idle.destroy();
      connections.delete(idle);
    }
    connections.set(socket, { busy: 0 });
    socket.once('close', () => connections.delete(socket));
    // Node's header timeout starts with the first byte; a connection that sends none is closed here.
    const silent = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, headersTimeout);
    silent.unref();
    socket.once('close', () => clearTimeout(silent));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const state = connections.get(req.socket);
    if (!state) return;
    state.busy++;
    res.once('close', () => state.busy--);
  });
  return server;
}

/**
 * Half the process's soft open-files limit less a reserve for the database and the process itself
 * (Linux: /proc/self/limits), clamped to 64…4096; 512 where the limit cannot be read.
 */
export function defaultMaxConnections(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((row) => row.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    if (Number.isFinite(soft) && soft > 0) return Math.max(64, Math.min(4096, Math.floor((soft - 128) / 2)));
  } catch {
    // not Linux
  }
  return 512;
}
