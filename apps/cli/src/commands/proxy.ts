import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_DB_PATH } from '@llm-monitor/driver-node';
import { type Command, InvalidArgumentError } from 'commander';
import { type DbOptions, displayLocation, openForRecording, parseDbArg, resolveDb, schemaOption } from '../lib/db.js';
import { waitForStopSignal } from '../lib/signals.js';
import { type RecordingProxy, createRecordingProxy } from '../proxy/recording-proxy.js';
import { createProxyServer, defaultMaxConnections } from '../proxy/server.js';
import { UserError } from '../user-error.js';

interface ProxyOptions extends DbOptions {
  upstream: URL;
  model?: string;
  port: number;
  host: string;
  metrics?: boolean;
  maxRequestBody: number;
  maxConnections: number;
  maxNewModelsPerMinute: number;
  modelIdle: number;
  upstreamIdleTimeout: number;
}

export function registerProxyCommand(program: Command): void {
  program
    .command('proxy')
    .summary('forward requests to an LLM server and record their tokens')
    .description(
      "Forward every request to an LLM server (llama.cpp, ik_llama.cpp, Ollama, vLLM, LM Studio, OpenAI, Anthropic) and record the tokens of each LLM call (OpenAI chat and text completions, embeddings, responses and rerank, Anthropic messages, Ollama's and llama.cpp's own APIs) into the monitor database, with the runtime of the proxy and of every model it records.\n\n" +
        "Point your clients' base URL at the proxy. Stop it with Ctrl-C (SIGINT) or SIGTERM: the open runs are closed and the command exits with 0.",
    )
    .requiredOption('--upstream <url>', 'the server to forward to, e.g. http://127.0.0.1:8080', parseUpstream)
    .option('--model <name>', 'record every request under this name (default: the request\'s "model", else the upstream\'s first /v1/models entry)')
    .option('--port <number>', 'port to listen on (0 picks a free one)', parsePort, 8090)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--db <path>', 'the monitor database (created if missing): a SQLite file, or a PostgreSQL URL (postgres://user@host:5432/db) that many proxies share', parseDbArg, DEFAULT_DB_PATH)
    .addOption(schemaOption())
    .option('--metrics', 'answer GET /metrics with Prometheus metrics (requests, tokens and recording failures per model, upstream latency, open streams) instead of forwarding it')
    .option('--max-request-body <size>', 'the largest request body accepted (larger: 413), e.g. 32MiB, 1GiB, 500000', parseSize, 32 * 1024 * 1024)
    .option('--max-connections <n>', 'client connections at once (default: from the open-files limit)', parsePositive('--max-connections'), defaultMaxConnections())
    .option('--max-new-models-per-minute <n>', 'new model names recorded per minute at most; requests of further ones are forwarded, not recorded', parsePositive('--max-new-models-per-minute'), 60)
    .option('--model-idle <seconds>', "a model's run ends this long after its last request", parsePositive('--model-idle'), 300)
    .option('--upstream-idle-timeout <ms>', "how long an idle connection to the upstream is reused; keep it below the upstream's own", parsePositive('--upstream-idle-timeout'), 4000)
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor proxy --upstream http://127.0.0.1:8080
      llama-server on 8080; clients use http://127.0.0.1:8090/v1 (or :8090 for its own /completion, /infill)
  $ llm-monitor proxy --upstream http://127.0.0.1:11434 --port 11435
      Ollama; clients use http://127.0.0.1:11435 (its /api/chat, /api/generate, /api/embed and /v1)
  $ llm-monitor proxy --upstream http://127.0.0.1:8000 --model Qwen3-Coder-30B --port 9000 --db /var/lib/llm/monitoring.db
      vLLM; every request recorded as Qwen3-Coder-30B
  $ llm-monitor proxy --upstream http://127.0.0.1:1234 --metrics
      LM Studio, with Prometheus metrics at http://127.0.0.1:8090/metrics
  $ llm-monitor proxy --upstream http://127.0.0.1:8080 --db postgres://monitor@db.internal/llm --schema llm_monitor
      record into a PostgreSQL database that the proxies of other hosts record into too`,
    )
    .action((options: ProxyOptions) => runProxy(options));
}

function parseUpstream(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`expected an http:// or https:// URL, got ${value}`);
  if (url.search || url.hash) throw new InvalidArgumentError(`the URL must not have a query or fragment: ${value}`);
  return url;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError(`expected a port number from 0 to 65535, got ${value}`);
  return port;
}

function parsePositive(flag: string): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < 1 || !Number.isSafeInteger(number)) throw new InvalidArgumentError(`${flag} expects a whole number of at least 1, got ${value}`);
    return number;
  };
}

const SIZE_UNITS = new Map([
  ['', 1],
  ['b', 1],
  ['k', 1024],
  ['kb', 1000],
  ['kib', 1024],
  ['m', 1024 ** 2],
  ['mb', 1000 ** 2],
  ['mib', 1024 ** 2],
  ['g', 1024 ** 3],
  ['gb', 1000 ** 3],
  ['gib', 1024 ** 3],
]);

/** A size in bytes: a whole number, optionally with a unit (B, KB, KiB, MB, MiB, GB, GiB; K, M, G are binary). */
export function parseSize(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = SIZE_UNITS.get(match?.[2]?.toLowerCase() ?? 'none');
  const bytes = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new InvalidArgumentError(`expected a size such as 32MiB, 1GiB or 500000 (bytes), got ${value}`);
  return bytes;
}

async function runProxy(options: ProxyOptions): Promise<void> {
  const db = resolveDb(options.db, options.schema);
  const log = (message: string) => process.stderr.write(`llm-monitor proxy: ${message}\n`);

  // The port first: a proxy that cannot listen must create no database. Requests that arrive before the
  // database is open wait for it.
  let ready: (proxy: RecordingProxy) => void = () => undefined;
  const proxyReady = new Promise<RecordingProxy>((resolveProxy) => (ready = resolveProxy));
  const server = createProxyServer((req: IncomingMessage, res: ServerResponse) => void proxyReady.then((proxy) => proxy(req, res)), {
    maxConnections: options.maxConnections,
  });
  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolveListen();
      });
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EADDRINUSE' ? 'the port is in use' : code === 'EADDRNOTAVAIL' ? 'no such address on this machine' : (error as Error).message;
    throw new UserError(`cannot listen on ${options.host} port ${options.port}: ${reason}`);
  }

  let monitor: Awaited<ReturnType<typeof openForRecording>>;
  try {
    monitor = await openForRecording(db, (label) => `cannot use ${label} as the monitor database`);
  } catch (error) {
    server.closeAllConnections();
    server.close();
    throw error;
  }
  const proxy = createRecordingProxy({
    upstream: options.upstream,
    monitor,
    model: options.model,
    log,
    metrics: options.metrics ?? false,
    maxRequestBytes: options.maxRequestBody,
    maxNewModelsPerMinute: options.maxNewModelsPerMinute,
    modelIdleMs: options.modelIdle * 1000,
    upstreamIdleTimeoutMs: options.upstreamIdleTimeout,
    maxUpstreamSockets: options.maxConnections,
  });
  await proxy.start();
  ready(proxy);

  const { address, port } = server.address() as AddressInfo;
  const base = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  process.stdout.write(`Listening on ${base}\n`);
  process.stdout.write(`Forwarding to ${options.upstream.href}, recording into ${displayLocation(db)}. Stop with Ctrl-C.\n`);
  if (options.metrics) process.stdout.write(`Prometheus metrics at ${base}/metrics\n`);

  const signal = await waitForStopSignal();
  // A second signal while shutting down stops at once.
  const force = () => process.exit(1);
  process.once('SIGINT', force);
  process.once('SIGTERM', force);

  // Streams still open end now, as if their clients left: their upstream requests are aborted and
  // whatever usage they reported so far is recorded.
  server.close();
  server.closeAllConnections();
  await proxy.close();
  await monitor.close();
  process.stdout.write(`Stopped (${signal}); the program and model runs are closed.\n`);
  process.off('SIGINT', force);
  process.off('SIGTERM', force);
}
