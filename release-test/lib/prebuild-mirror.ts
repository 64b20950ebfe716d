import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, realpathSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ROOT, readJson } from './workspace.js';

/**
 * better-sqlite3's install script runs prebuild-install, which downloads a prebuilt binary from GitHub,
 * else compiles SQLite from source (about two minutes per install here, where GitHub is out of reach).
 * prebuild-install also takes a mirror host from `npm_config_better_sqlite3_binary_host` (what companies
 * behind a firewall use). This serves, on loopback, the binary the workspace itself built for this
 * platform and Node, as `v<version>/better-sqlite3-v<version>-node-v<abi>-<platform>-<arch>.tar.gz`. Any
 * other version is a 404, and the install compiles from source as it would anywhere.
 */
export interface PrebuildMirror {
  /** The environment variable that points prebuild-install here. */
  env: Record<string, string>;
  /** The version it serves (the workspace's better-sqlite3). */
  version: string;
  /** Paths requested, and whether each was served. */
  requests: { path: string; served: boolean }[];
  stop(): Promise<void>;
}

export async function startPrebuildMirror(dir: string): Promise<PrebuildMirror> {
  const engine = realpathSync(join(ROOT, 'packages', 'driver-node', 'node_modules', 'better-sqlite3'));
  const { version } = readJson(join(engine, 'package.json'));
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const archive = join(dir, name);
  const binary = join('build', 'Release', 'better_sqlite3.node');
  if (!existsSync(join(engine, binary))) throw new Error(`${join(engine, binary)} is missing: the workspace's better-sqlite3 was not built`);
  execFileSync('tar', ['-czf', archive, '-C', engine, binary]);
  const requests: PrebuildMirror['requests'] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const served = path === `/v${version}/${name}`;
    requests.push({ path, served });
    if (!served) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/gzip' });
    createReadStream(archive).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    env: { npm_config_better_sqlite3_binary_host: `http://127.0.0.1:${port}` },
    version,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
