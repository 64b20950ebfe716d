import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_DB_PATH } from '@llm-monitor/driver-node';
import { type Command, InvalidArgumentError } from 'commander';
import { type DbOptions, displayLocation, openForRecording, resolveDb, schemaOption } from '../lib/db.js';
import { createRecordingProxy } from '../proxy/recording-proxy.js';
import { UserError } from '../user-error.js';
import { waitForStopSignal } from '../lib/signals.js';

interface ProxyOptions extends DbOptions {
  upstream: URL;
  model?: string;
  port: number;
  host: string;
}

export function registerProxyCommand(program: Command): void {
  program
    .command('proxy')
    .summary('forward requests to an OpenAI-compatible server and record their tokens')
    .description(
      'Forward every request to an OpenAI-compatible LLM server (llama.cpp, vLLM, Ollama, OpenAI, Anthropic) and record the tokens of each LLM call (chat and text completions, embeddings, responses, messages, rerank) into the monitor database, with the runtime of the proxy and of every model it sees.\n\n' +
        'Point your clients\' base URL at the proxy. Stop it with Ctrl-C (SIGINT) or SIGTERM: the open runs are closed and the command exits with 0.',
    )
    .requiredOption('--upstream <url>', 'the server to forward to, e.g. http://127.0.0.1:8080', parseUpstream)
    .option('--model <name>', 'record every request under this name (default: the request\'s "model", else the upstream\'s first /v1/models entry)')
    .option('--port <number>', 'port to listen on (0 picks a free one)', parsePort, 8090)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--db <path>', 'the monitor database (created if missing): a SQLite file, or a PostgreSQL URL (postgres://user@host:5432/db) that many proxies share', DEFAULT_DB_PATH)
    .addOption(schemaOption())
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor proxy --upstream http://127.0.0.1:8080
      llama.cpp on 8080; clients use http://127.0.0.1:8090/v1 as their base URL
  $ llm-monitor proxy --upstream http://127.0.0.1:8000 --model Qwen3-Coder-30B --port 9000 --db /var/lib/llm/monitoring.db
      vLLM; every request recorded as Qwen3-Coder-30B
  $ llm-monitor proxy --upstream https://api.openai.com --host 0.0.0.0
      a remote API, reachable from other machines (the client's Authorization header is passed on)
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

async function runProxy(options: ProxyOptions): Promise<void> {
  const db = resolveDb(options.db, options.schema);
  const monitor = await openForRecording(db, (label) => `cannot use ${label} as the monitor database`);
  const log = (message: string) => process.stderr.write(`llm-monitor proxy: ${message}\n`);
  const proxy = createRecordingProxy({ upstream: options.upstream, monitor, model: options.model, log });
  const server = http.createServer(proxy);
  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolveListen();
      });
    });
  } catch (error) {
    await monitor.close();
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EADDRINUSE' ? 'the port is in use' : code === 'EADDRNOTAVAIL' ? 'no such address on this machine' : (error as Error).message;
    throw new UserError(`cannot listen on ${options.host} port ${options.port}: ${reason}`);
  }
  await proxy.start();

  const { address, port } = server.address() as AddressInfo;
  process.stdout.write(`Listening on http://${address.includes(':') ? `[${address}]` : address}:${port}\n`);
  process.stdout.write(`Forwarding to ${options.upstream.href}, recording into ${displayLocation(db)}. Stop with Ctrl-C.\n`);

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
