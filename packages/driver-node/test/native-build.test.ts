import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// A project as npm lays it out: @llm-monitor/driver-node (this package as built) next to a copy of
// better-sqlite3 whose native build is absent, as after `npm install --ignore-scripts` or a package
// manager that blocks build scripts. Copies, not links: Node resolves a linked package from its real
// path, which would find the workspace's working better-sqlite3.

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const requireHere = createRequire(join(PACKAGE_DIR, 'package.json'));
const BETTER_SQLITE3_DIR = dirname(requireHere.resolve('better-sqlite3/package.json'));
const requireFromBetterSqlite3 = createRequire(join(BETTER_SQLITE3_DIR, 'package.json'));
const BINDINGS_DIR = dirname(requireFromBetterSqlite3.resolve('bindings/package.json'));
const CORE_DIR = dirname(requireHere.resolve('@llm-monitor/core/package.json'));

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function project(withNativeBuild: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'llm-monitor-native-'));
  dirs.push(dir);
  const modules = join(dir, 'node_modules');
  const driver = join(modules, '@llm-monitor', 'driver-node');
  mkdirSync(driver, { recursive: true });
  cpSync(join(PACKAGE_DIR, 'package.json'), join(driver, 'package.json'));
  cpSync(join(PACKAGE_DIR, 'dist'), join(driver, 'dist'), { recursive: true });
  symlinkSync(CORE_DIR, join(modules, '@llm-monitor', 'core'), 'dir');
  const engine = join(modules, 'better-sqlite3');
  cpSync(join(BETTER_SQLITE3_DIR, 'package.json'), join(engine, 'package.json'));
  cpSync(join(BETTER_SQLITE3_DIR, 'lib'), join(engine, 'lib'), { recursive: true });
  if (withNativeBuild)
    cpSync(join(BETTER_SQLITE3_DIR, 'build', 'Release', 'better_sqlite3.node'), join(engine, 'build', 'Release', 'better_sqlite3.node'));
  symlinkSync(BINDINGS_DIR, join(modules, 'bindings'), 'dir');
  writeFileSync(
    join(dir, 'open.mjs'),
    `import { openMonitor } from '@llm-monitor/driver-node';
try {
  const monitor = await openMonitor(process.argv[2], { readOnly: process.argv[3] === 'read-only' });
  await monitor.addModelRequest('qwen', [1_700_000_000, 150, 75]);
  console.log(JSON.stringify({ opened: true, models: (await monitor.listModels()).map((m) => m.name) }));
  await monitor.close();
} catch (error) {
  console.log(JSON.stringify({ opened: false, name: error.name, code: error.code, message: error.message }));
}
`,
  );
  return dir;
}

function open(dir: string, ...args: string[]): { opened: boolean; code?: string; message?: string; models?: string[] } {
  const result = spawnSync(process.execPath, ['open.mjs', ...args], { cwd: dir, encoding: 'utf8' });
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout);
}

describe('better-sqlite3 installed without its native build', () => {
  it('openMonitor names the missing build and the fix, and creates no folder or file', () => {
    const dir = project(false);
    const result = open(dir, 'webui/monitoring.db');
    expect(result).toMatchObject({ opened: false, code: 'DRIVER' });
    expect(result.message).toContain('better-sqlite3 is installed but its native build cannot be loaded');
    expect(result.message).toContain('Could not locate the bindings file');
    expect(result.message).toContain('`npm rebuild better-sqlite3`');
    expect(result.message).toContain('install script');
    // the database file is not what is wrong
    expect(result.message).not.toMatch(/monitoring\.db|Cannot open/);
    expect(existsSync(join(dir, 'webui'))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['node_modules', 'open.mjs']);
  });

  it('read-only opening of an existing file says the same and leaves the file alone', () => {
    const dir = project(false);
    writeFileSync(join(dir, 'existing.db'), '');
    const result = open(dir, 'existing.db', 'read-only');
    expect(result).toMatchObject({ opened: false, code: 'DRIVER' });
    expect(result.message).toContain('`npm rebuild better-sqlite3`');
    expect(readdirSync(dir).sort()).toEqual(['existing.db', 'node_modules', 'open.mjs']);
  });

  it('the same project with the native build in place opens and records (the layout above is sound)', () => {
    const dir = project(true);
    expect(open(dir, 'webui/monitoring.db')).toEqual({ opened: true, models: ['qwen'] });
    expect(existsSync(join(dir, 'webui', 'monitoring.db'))).toBe(true);
  });
});
