import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A Verdaccio registry on loopback, with a user who may publish. */
export interface LocalRegistry {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  /** The publishing user's token, for an `.npmrc` line `//127.0.0.1:<port>/:_authToken=…`. */
  token: string;
  /** What the registry printed (warnings and errors only), for a failing test's message. */
  log(): string;
  stop(): Promise<void>;
}

const SERVER = fileURLToPath(new URL('./verdaccio-server.mjs', import.meta.url));

/**
 * Starts Verdaccio with its storage in `dir`. Our scope, `@llm-monitor/*`, is served from that storage
 * only (never from the uplink, where anyone could own the name); every other package comes through the
 * uplink, the registry npm is configured with.
 */
export async function startRegistry(dir: string, uplink: string): Promise<LocalRegistry> {
  mkdirSync(join(dir, 'storage'), { recursive: true });
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      `storage: ${JSON.stringify(join(dir, 'storage'))}`,
      'auth:',
      '  htpasswd:',
      `    file: ${JSON.stringify(join(dir, 'htpasswd'))}`,
      '    max_users: 10',
      'uplinks:',
      '  upstream:',
      `    url: ${JSON.stringify(uplink)}`,
      '    timeout: 120s',
      // a slow moment of the network must not take the uplink out for the rest of the run
      '    max_fails: 50',
      '    fail_timeout: 5s',
      // a retried install must see the uplink again, not a packument cached from the failed attempt
      '    maxage: 5s',
      'packages:',
      "  '@llm-monitor/*':",
      '    access: $all',
      '    publish: $authenticated',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      '    proxy: upstream',
      'web:',
      '  enable: false',
      'middlewares:',
      '  audit:',
      '    enabled: false',
      'log:',
      '  type: stdout',
      '  format: pretty',
      '  level: warn',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(process.execPath, [SERVER, config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Verdaccio did not start within 60 s:\n${output}`)), 60_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = /LOCAL_REGISTRY_PORT=(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`Verdaccio exited with ${code}:\n${output}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const url = `http://127.0.0.1:${port}/`;
  try {
    // what `npm adduser` does
    const response = await fetch(`${url}-/user/org.couchdb.user:rehearsal`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'rehearsal', password: 'rehearsal-password', email: 'rehearsal@example.invalid', type: 'user' }),
    });
    const body = (await response.json()) as { token?: string };
    if (!response.ok || !body.token) throw new Error(`adding a user to Verdaccio failed: ${response.status} ${JSON.stringify(body)}`);
    return { url, token: body.token, log: () => output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
