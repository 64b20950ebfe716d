import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, InvalidArgumentError } from 'commander';
import sirv from 'sirv';
import { dbOption, requireDatabaseFile, requireSqlite } from '../lib/db.js';
import { shellQuote } from '../lib/format.js';
import { snapshotDatabase } from '../lib/snapshot.js';
import { UserError } from '../user-error.js';
import { waitForStopSignal } from '../lib/signals.js';

interface ServeOptions {
  db: string;
  port: number;
  app?: string;
}

/** The path the analyzer loads the database from (`?url=`, same origin). */
export const DATABASE_PATH = '/monitoring.db';

/**
 * The change feed: Server-Sent Events, one `change` event each time a new snapshot of the database is
 * ready at DATABASE_PATH. The database's response names it in the EVENTS_HEADER header, which the
 * analyzer reads to subscribe (apps/analyzer/src/worker/protocol.ts has the same name).
 */
export const EVENTS_PATH = '/events';
export const EVENTS_HEADER = 'Llm-Monitor-Events';
/** How often the database file is looked at while a page listens for changes. */
const WATCH_MS = 500;
/** A comment line this often keeps idle connections (and proxies in between) open. */
const HEARTBEAT_MS = 15_000;

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .summary('open the database in the browser analyzer, served on 127.0.0.1')
    .description(
      'Serve the browser analyzer on 127.0.0.1 with the database preloaded, and print the URL to open. ' +
        `The analyzer gets a consistent snapshot of the database at ${DATABASE_PATH}; when the database changes, a new snapshot is taken and the open page is told (Server-Sent Events at ${EVENTS_PATH}), so it updates in place, keeping its view. The database itself is only read. ` +
        'Stop with Ctrl-C.',
    )
    .addOption(dbOption('the monitor database, a SQLite file'))
    .option('--port <number>', 'port to listen on (0 picks a free one)', parsePort, 4174)
    .option('--app <dir>', 'the built analyzer to serve (default: the one bundled with the CLI)')
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor serve
      then open the printed http://127.0.0.1:4174/?url=/monitoring.db
  $ llm-monitor serve --db /var/lib/llm/monitoring.db --port 0`,
    )
    .action((options: ServeOptions) => runServe(options));
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError(`expected a port number from 0 to 65535, got ${value}`);
  return port;
}

/** The built analyzer: `--app`, else the copy `pnpm build` put next to the bin, else the workspace's own build. */
function findApp(app: string | undefined): string {
  if (app !== undefined) {
    const dir = resolve(app);
    if (!existsSync(join(dir, 'index.html'))) throw new UserError(`--app ${app} holds no index.html: give the folder of a built analyzer (apps/analyzer/dist)`);
    return dir;
  }
  const candidates = [fileURLToPath(new URL('./analyzer/', import.meta.url)), fileURLToPath(new URL('../../analyzer/dist/', import.meta.url))];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (!found)
    throw new UserError('the analyzer app is not built: build it (pnpm --filter @llm-monitor/analyzer build, then rebuild the CLI) or give its folder with --app DIR');
  return found;
}

/** What identifies the database's state: a changed file or WAL means a new snapshot is due. */
function version(db: string): string {
  const parts = [db, `${db}-wal`].map((file) => {
    try {
      const stat = statSync(file);
      return `${stat.size}:${stat.mtimeMs}`;
    } catch {
      return '-';
    }
  });
  return parts.join('|');
}

async function runServe(options: ServeOptions): Promise<void> {
  requireSqlite(
    options.db,
    (url) =>
      `serve shows a SQLite file in the browser analyzer, and ${url} is a PostgreSQL database: copy it into a file first with \`llm-monitor migrate --from ${shellQuote(url)} --to monitoring.db\`, then run \`llm-monitor serve --db monitoring.db\``,
  );
  requireDatabaseFile(options.db);
  const appDir = findApp(options.app);
  const workDir = mkdtempSync(join(tmpdir(), 'llm-monitor-serve-'));
  const snapshot = join(workDir, 'monitoring.db');
  const cleanup = () => rmSync(workDir, { recursive: true, force: true });

  // pages listening for changes (the file is watched only while there is one), told of every new snapshot
  const listeners = new Set<http.ServerResponse>();
  let snapshots = 0;
  const announce = () => {
    snapshots++;
    for (const res of listeners) res.write(`event: change\ndata: ${JSON.stringify({ snapshot: snapshots })}\n\n`);
  };

  let current = '';
  let pending: Promise<void> = Promise.resolve();
  /** Takes a new snapshot if the database changed since the last one (one at a time), and says so to the pages. */
  const refresh = (verify: boolean) => {
    pending = pending.catch(() => undefined).then(async () => {
      const now = version(options.db);
      if (now === current) return;
      await snapshotDatabase(options.db, snapshot, { verify });
      const first = current === '';
      current = now;
      if (!first) announce();
    });
    return pending;
  };
  try {
    await refresh(true);
  } catch (error) {
    cleanup();
    throw error;
  }

  const log = (message: string) => process.stderr.write(`llm-monitor serve: ${message}\n`);
  const serveApp = sirv(appDir, { etag: true, dev: false });

  let watching = false;
  const watcher = setInterval(() => {
    if (listeners.size === 0 || watching || version(options.db) === current) return;
    watching = true;
    refresh(false)
      .catch((error: unknown) => log(`cannot take a snapshot of ${options.db}: ${(error as Error).message}`))
      .finally(() => (watching = false));
  }, WATCH_MS);
  const heartbeat = setInterval(() => {
    for (const res of listeners) res.write(': still here\n\n');
  }, HEARTBEAT_MS);
  const listen = (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    listeners.add(res);
    req.on('close', () => listeners.delete(res));
  };

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === EVENTS_PATH && req.method === 'GET') {
      listen(req, res);
      return;
    }
    if (path !== DATABASE_PATH) {
      serveApp(req, res, () => {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('Not found\n');
      });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' });
      res.end();
      return;
    }
    refresh(false).then(
      () => {
        const { size } = statSync(snapshot);
        res.writeHead(200, {
          'Content-Type': 'application/vnd.sqlite3',
          'Content-Length': size,
          'Cache-Control': 'no-store',
          'Content-Disposition': 'inline; filename="monitoring.db"',
          [EVENTS_HEADER]: EVENTS_PATH,
        });
        if (req.method === 'HEAD') res.end();
        else createReadStream(snapshot).pipe(res);
      },
      (error: unknown) => {
        log(`cannot take a snapshot of ${options.db}: ${(error as Error).message}`);
        res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`Cannot read ${options.db}: ${(error as Error).message}\n`);
      },
    );
  });

  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolveListen();
      });
    });
  } catch (error) {
    clearInterval(watcher);
    clearInterval(heartbeat);
    cleanup();
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`cannot listen on 127.0.0.1 port ${options.port}: ${code === 'EADDRINUSE' ? 'the port is in use (try --port 0)' : (error as Error).message}`);
  }
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`Serving the analyzer with ${resolve(options.db)} (a snapshot, taken again when it changes; the open page updates itself).\n`);
  process.stdout.write(`Open http://127.0.0.1:${port}/?url=${DATABASE_PATH}\n`);
  process.stdout.write('Stop with Ctrl-C.\n');

  const signal = await waitForStopSignal();
  clearInterval(watcher);
  clearInterval(heartbeat);
  for (const res of listeners) res.end();
  server.close();
  server.closeAllConnections();
  await pending.catch(() => undefined);
  cleanup();
  process.stdout.write(`Stopped (${signal}).\n`);
}
