import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { documentedOutput } from '../lib/markdown.js';
import { npmInstall, userEnv } from '../lib/npm.js';
import { run } from '../lib/run.js';
import { type Snippet, readmeSnippets, writeSnippets } from '../lib/snippets.js';
import { ROOT, publishedPackages, readJson } from '../lib/workspace.js';

// The README examples of every published package, copied as a user copies them into a new project that
// installed the packed tarballs (and what the READMEs say to install beside them) with plain npm from
// the registry npm is configured with. All are type-checked with tsc; the Node examples of core,
// driver-wasm and driver-postgres also run and must print what the README shows. driver-node's run in
// the release rehearsal (they need better-sqlite3's native build, skipped here), and the CLI's start a
// long-running proxy.

const packed = inject('packed');
const published = publishedPackages();
const readmes = new Map(published.map((p) => [p.json.name, readFileSync(join(ROOT, p.dir, 'README.md'), 'utf8')]));
const snippets: Snippet[] = published.flatMap((p) => readmeSnippets(p.json.name, readmes.get(p.json.name)!));
const rootDevDependencies = readJson(join(ROOT, 'package.json')).devDependencies!;

/** What the READMEs tell users to install next to our packages (peer dependencies, their types, Vite for `?url`). */
const BESIDE = [
  'better-sqlite3@12',
  'sql.js@^1.15',
  '@types/sql.js',
  'pg@^8.11',
  'vite@^7',
  `typescript@${rootDevDependencies.typescript}`,
  `@types/node@${rootDevDependencies['@types/node']}`,
];

const PG_URL = process.env.LLM_MONITOR_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'llm-monitor-readme-'));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'readme-snippets', private: true, type: 'module' }, null, 2)}\n`);
  // no install scripts: type-checking needs no native build
  await npmInstall(['--ignore-scripts', '--no-audit', '--no-fund', ...packed.map((p) => p.file), ...BESIDE], { cwd: dir, timeoutMs: 300_000 });
  writeSnippets(dir, snippets);
  const common = { strict: true, target: 'es2022', noEmit: true, skipLibCheck: true, noUncheckedIndexedAccess: false };
  const node = snippets.filter((s) => s.target === 'node').map((s) => s.path);
  const browser = snippets.filter((s) => s.target === 'browser').map((s) => s.path);
  writeFileSync(
    join(dir, 'tsconfig.node.json'),
    JSON.stringify({ compilerOptions: { ...common, module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022'], types: ['node'], allowJs: true, checkJs: true }, files: node }),
  );
  writeFileSync(
    join(dir, 'tsconfig.browser.json'),
    JSON.stringify({ compilerOptions: { ...common, module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom', 'dom.iterable'], types: [] }, files: browser }),
  );
});
afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

const tsc = (project: string) => run(process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: dir });

describe('README examples', () => {
  it('every package README has examples, ES module and CommonJS', () => {
    for (const { json } of published) {
      const paths = snippets.filter((s) => s.path.startsWith(`${json.name.replace('@llm-monitor/', '')}/`)).map((s) => s.path);
      expect(paths.some((p) => p.endsWith('.mjs')) && paths.some((p) => p.endsWith('.cjs')), `${json.name}: ${paths.join(', ')}`).toBe(true);
    }
    // driver-wasm's browser example is checked as a Vite app
    expect(snippets.some((s) => s.target === 'browser' && s.path.startsWith('driver-wasm/'))).toBe(true);
  });

  it('type-check as written, in Node (module nodenext, the .mjs and .cjs files too)', async () => {
    const result = await tsc('tsconfig.node.json');
    expect(result.stdout, result.stdout).toBe('');
    expect(result.code).toBe(0);
  });

  it('type-check as written in a Vite browser app (bundler resolution, DOM, vite/client)', async () => {
    const result = await tsc('tsconfig.browser.json');
    expect(result.stdout, result.stdout).toBe('');
    expect(result.code).toBe(0);
  });

  it.each(['core', 'driver-wasm'])('%s: example.mjs and example.cjs run and print what the README shows', async (folder) => {
    const readme = readmes.get(`@llm-monitor/${folder}`)!;
    for (const file of ['example.mjs', 'example.cjs']) {
      const result = await run(process.execPath, [file], { cwd: join(dir, folder), env: userEnv() });
      expect(result.stderr, `${folder}/${file}`).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout, `${folder}/${file}`).toBe(documentedOutput(readme, `node ${file}`));
    }
  });

  it('driver-postgres: example.mjs and example.cjs run on a new database and print what the README shows', async (context) => {
    const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 10_000 });
    try {
      await admin.connect();
    } catch (error) {
      if (process.env.LLM_MONITOR_PG_SKIP === '1') {
        console.warn(`[release-test] SKIPPING the driver-postgres README examples: no server at ${PG_URL} (LLM_MONITOR_PG_SKIP=1)`);
        context.skip();
      }
      throw new Error(`The driver-postgres README examples need a PostgreSQL server at ${PG_URL} (LLM_MONITOR_PG_URL); set LLM_MONITOR_PG_SKIP=1 to skip: ${error}`);
    }
    const database = `lmtest_${Date.now()}_readme`;
    await admin.query(`CREATE DATABASE ${database}`);
    try {
      const url = new URL(PG_URL);
      url.pathname = `/${database}`;
      const readme = readmes.get('@llm-monitor/driver-postgres')!;
      for (const file of ['example.mjs', 'example.cjs']) {
        const result = await run(process.execPath, [file], { cwd: join(dir, 'driver-postgres'), env: userEnv({ DATABASE_URL: url.href }) });
        expect(result.stderr, file).toBe('');
        expect(result.stdout, file).toBe(documentedOutput(readme, `node ${file}`));
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${database}`);
      await admin.end();
    }
  });
});
