import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarballProblems } from '../lib/checks.js';
import { documentedOutput } from '../lib/markdown.js';
import { configuredRegistry, globalConfig, npm, npmInstall, userEnv } from '../lib/npm.js';
import { type PrebuildMirror, startPrebuildMirror } from '../lib/prebuild-mirror.js';
import { type LocalRegistry, startRegistry } from '../lib/registry.js';
import { type Changeset, copyRepository, nextGroupVersion, pendingChangesets } from '../lib/release.js';
import { type RunResult, runOk } from '../lib/run.js';
import { readmeSnippets, writeSnippets } from '../lib/snippets.js';
import { readTarball } from '../lib/tar.js';
import { CHANGESET, type ChangesetConfig, ROOT, publishedPackages, readJson, tarballName, workspacePackages } from '../lib/workspace.js';

// A release, rehearsed end to end as docs/releasing.md tells a maintainer to cut one, against a local
// npm registry (Verdaccio on 127.0.0.1, its storage in a temp folder, everything but our scope proxied
// from the registry npm is configured with):
//
//   1. a throwaway copy of the repository gets a sample changeset; `changeset version` versions the
//      packages and writes their changelogs;
//   2. `changeset publish` publishes them to the local registry (pnpm publish, as in a real release);
//   3. in a new folder, `npm init -y` and `npm install @llm-monitor/driver-node better-sqlite3@12`, then
//      the README's example.mjs and example.cjs, which must print what the README shows;
//   4. `npm install -g @llm-monitor/cli` into a temp prefix, then `llm-monitor demo` and `llm-monitor report`.
//
// better-sqlite3's install script gets its binary from a loopback mirror of the workspace's own build
// (lib/prebuild-mirror.ts) instead of compiling SQLite twice; LLM_MONITOR_REHEARSAL_FROM_SOURCE=1
// compiles it from source as a user without a prebuilt binary would (about two minutes per install here).

const fromSource = process.env.LLM_MONITOR_REHEARSAL_FROM_SOURCE === '1';
const published = publishedPackages();
const group = readJson<ChangesetConfig>(join(ROOT, '.changeset', 'config.json')).fixed[0]!;
const before = published[0]!.json.version;
const nonce = `${Date.now().toString(36)}`;
const SAMPLE: Changeset = {
  file: 'release-rehearsal-sample.md',
  releases: { '@llm-monitor/driver-node': 'patch' },
  summary: `Release rehearsal ${nonce}: a sample change note, to be found in driver-node's changelog.`,
};

let tmp: string;
let registry: LocalRegistry | undefined;
let mirror: PrebuildMirror | undefined;
let machineGlobalConfig: string;
let changesets: Changeset[];
let expected: string;
const timings: [string, number][] = [];
const outputs: Record<string, RunResult> = {};

const repo = () => join(tmp, 'repo');
const app = () => join(tmp, 'app');
const prefix = () => join(tmp, 'global');

async function step<T extends RunResult>(label: string, action: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await action();
  timings.push([label, (performance.now() - started) / 1000]);
  outputs[label] = result;
  return result;
}

/** npm as a user runs it, against the local registry, with a cache of its own (a fresh machine). */
/**
 * npm as a user of a private registry sets it up: our scope from the local registry, every other package
 * from the registry npm is configured with, directly. (Through the local registry's uplink, a slow moment
 * of the public registry made npm see `better-sqlite3@undefined` on a busy machine.)
 */
const registryEnv = () =>
  userEnv({
    'npm_config_@llm-monitor:registry': registry!.url,
    npm_config_cache: join(tmp, 'npm-cache'),
    // the machine's global npmrc also for the install into a temp prefix (see globalConfig)
    npm_config_globalconfig: machineGlobalConfig,
    ...(fromSource ? {} : mirror!.env),
  });

/**
 * How long one install may take before it counts as stalled and is tried again: a few seconds with the
 * binary from the mirror (3 minutes leaves room for a slow registry), about two minutes per compile from source.
 */
const INSTALL_LIMIT_MS = fromSource ? 480_000 : 180_000;

beforeAll(async () => {
  try {
    await rehearse();
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- the local registry's log\n${registry?.log() ?? '(not started)'}`, { cause: error });
  }
}, 1_500_000);

async function rehearse(): Promise<void> {
  tmp = mkdtempSync(join(tmpdir(), 'llm-monitor-rehearsal-'));
  const started = performance.now();

  await copyRepository(repo());
  writeFileSync(join(repo(), '.changeset', SAMPLE.file), `---\n'@llm-monitor/driver-node': patch\n---\n\n${SAMPLE.summary}\n`);
  changesets = pendingChangesets(repo());
  expected = nextGroupVersion(before, group, changesets);
  await step('changeset version', () => runOk(process.execPath, [CHANGESET, 'version'], { cwd: repo(), env: userEnv() }));

  registry = await startRegistry(join(tmp, 'registry'), await configuredRegistry(tmp));
  machineGlobalConfig = await globalConfig(tmp);
  const host = registry.url.replace(/^http:/, '');
  writeFileSync(join(repo(), '.npmrc'), `registry=${registry.url}\n${host}:_authToken=${registry.token}\n`);
  await step('changeset publish', () =>
    runOk(process.execPath, [CHANGESET, 'publish'], {
      cwd: repo(),
      // changesets runs `pnpm publish` in each package: the workspace's pnpm
      env: userEnv({ npm_config_registry: registry!.url, PATH: `${join(ROOT, 'node_modules', '.bin')}${delimiter}${process.env.PATH}` }),
    }),
  );

  if (!fromSource) mirror = await startPrebuildMirror(tmp);
  mkdirSync(app());
  await step('npm init -y', () => npm(['init', '-y'], { cwd: app(), env: registryEnv() }));
  await step('npm install @llm-monitor/driver-node better-sqlite3@12', () =>
    npmInstall(['@llm-monitor/driver-node', 'better-sqlite3@12'], { cwd: app(), env: registryEnv(), timeoutMs: INSTALL_LIMIT_MS }),
  );
  const readme = readFileSync(join(app(), 'node_modules', '@llm-monitor', 'driver-node', 'README.md'), 'utf8');
  writeSnippets(
    app(),
    readmeSnippets('@llm-monitor/driver-node', readme)
      .filter((s) => /\/example\.(mjs|cjs)$/.test(s.path))
      .map((s) => ({ ...s, path: s.path.replace(/^.*\//, '') })),
  );
  await step('node example.mjs', () => runOk(process.execPath, ['example.mjs'], { cwd: app(), env: userEnv() }));
  await step('node example.cjs', () => runOk(process.execPath, ['example.cjs'], { cwd: app(), env: userEnv() }));

  await step('npm install -g @llm-monitor/cli', () =>
    npmInstall(['--global', '--prefix', prefix(), '@llm-monitor/cli'], { cwd: tmp, env: registryEnv(), timeoutMs: INSTALL_LIMIT_MS }),
  );
  const cliHome = join(tmp, 'cli-home');
  mkdirSync(cliHome);
  const bin = join(prefix(), 'bin', 'llm-monitor');
  await step('llm-monitor --version', () => runOk(bin, ['--version'], { cwd: cliHome, env: userEnv() }));
  await step('llm-monitor demo', () => runOk(bin, ['demo'], { cwd: cliHome, env: userEnv({ TZ: 'UTC' }) }));
  await step('llm-monitor report', () => runOk(bin, ['report'], { cwd: cliHome, env: userEnv({ TZ: 'UTC' }) }));
  timings.push(['whole rehearsal', (performance.now() - started) / 1000]);
}

afterAll(async () => {
  await registry?.stop();
  await mirror?.stop();
  console.log(
    [
      `Release rehearsal: ${before} → ${expected}${fromSource ? ' (better-sqlite3 compiled from source)' : ''}`,
      ...timings.map(([label, seconds]) => `  ${seconds.toFixed(1).padStart(6)} s  ${label}`),
      mirror ? `  better-sqlite3 ${mirror.version} binary from the loopback mirror: ${JSON.stringify(mirror.requests)}` : '',
      ...['changeset publish', 'npm install @llm-monitor/driver-node better-sqlite3@12', 'node example.mjs', 'node example.cjs', 'npm install -g @llm-monitor/cli', 'llm-monitor --version', 'llm-monitor demo', 'llm-monitor report']
        .filter((label) => outputs[label])
        .map((label) => `--- $ ${label}\n${outputs[label]!.stdout.trimEnd()}${outputs[label]!.stderr.trim() ? `\n[stderr] ${outputs[label]!.stderr.trimEnd()}` : ''}`),
    ].join('\n'),
  );
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('release rehearsal', () => {
  it('changeset version moves the whole fixed group to one new version, with changelogs from every changeset', () => {
    expect(expected).not.toBe(before);
    for (const { dir, json } of workspacePackages(repo())) {
      if (json.private) {
        expect(json.version, `${json.name} is private: changesets leaves it alone`).toBe(workspacePackages().find((p) => p.dir === dir)!.json.version);
        continue;
      }
      expect(json.version, json.name).toBe(expected);
      const changelog = readFileSync(join(repo(), dir, 'CHANGELOG.md'), 'utf8');
      expect(changelog.startsWith(`# ${json.name}\n\n## ${expected}\n`), `${json.name}'s CHANGELOG.md starts with the new version`).toBe(true);
      for (const changeset of changesets.filter((c) => json.name in c.releases))
        expect(changelog, `${json.name}: ${changeset.file}`).toContain(changeset.summary.split('\n')[0]);
    }
    expect(readFileSync(join(repo(), 'packages', 'driver-node', 'CHANGELOG.md'), 'utf8')).toContain(`Release rehearsal ${nonce}`);
    expect(existsSync(join(repo(), '.changeset', SAMPLE.file)), 'the changesets are consumed').toBe(false);
  });

  it('changeset publish puts every package on the registry at that version, internal dependencies pinned to it', async () => {
    expect(outputs['changeset publish']!.stdout + outputs['changeset publish']!.stderr).toContain('packages published successfully');
    const pulled = join(tmp, 'pulled');
    mkdirSync(pulled);
    await Promise.all(
      published.map(async ({ dir, json }) => {
        const view = JSON.parse((await npm(['view', `${json.name}@${expected}`, '--json'], { cwd: tmp, env: registryEnv() })).stdout);
        expect(view.version, json.name).toBe(expected);
        expect(view['dist-tags'].latest, json.name).toBe(expected);
        for (const [dependency, range] of Object.entries({ ...view.dependencies, ...view.peerDependencies }))
          if (dependency.startsWith('@llm-monitor/')) expect(range, `${json.name} → ${dependency}`).toBe(expected);
        // the tarball as the registry serves it: everything the pack check asks, and the new changelog
        await npm(['pack', `${json.name}@${expected}`, '--pack-destination', pulled], { cwd: tmp, env: registryEnv() });
        expect(tarballProblems(readTarball(join(pulled, tarballName(json.name, expected))), { dir, version: expected, changelogVersion: expected })).toEqual([]);
      }),
    );
  });

  it('a fresh CommonJS project installs driver-node and better-sqlite3 12, and the README examples print what the README shows', () => {
    expect(readJson(join(app(), 'package.json')).type, 'npm init -y writes a CommonJS project').toBe('commonjs');
    const installed = (name: string) => readJson(join(app(), 'node_modules', name, 'package.json')).version;
    expect(installed('@llm-monitor/driver-node')).toBe(expected);
    expect(installed('@llm-monitor/core')).toBe(expected);
    expect(installed('better-sqlite3')).toMatch(/^12\./);
    expect(existsSync(join(app(), 'node_modules', '@llm-monitor', 'driver-node', 'node_modules')), 'one copy of core').toBe(false);
    // no engine, peer or deprecation warning about our packages
    expect(outputs['npm install @llm-monitor/driver-node better-sqlite3@12']!.stderr).not.toContain('@llm-monitor');
    const readme = readFileSync(join(app(), 'node_modules', '@llm-monitor', 'driver-node', 'README.md'), 'utf8');
    for (const file of ['example.mjs', 'example.cjs']) {
      expect(outputs[`node ${file}`]!.stderr, file).toBe('');
      expect(outputs[`node ${file}`]!.stdout, file).toBe(documentedOutput(readme, `node ${file}`));
    }
    expect(existsSync(join(app(), 'webui', 'monitoring.db'))).toBe(true);
  });

  it('npm install -g @llm-monitor/cli gives a working llm-monitor: demo, then report', () => {
    expect(outputs['npm install -g @llm-monitor/cli']!.stderr).not.toContain('@llm-monitor');
    expect(outputs['llm-monitor --version']!.stdout).toBe(`${expected}\n`);
    const demo = outputs['llm-monitor demo']!;
    expect(demo.stderr).toBe('');
    expect(demo.stdout).toMatch(/^Created webui\/monitoring\.db with a simulated week \(seed 42\):/);
    for (const model of ['Qwen3-Coder-30B-A3B-Instruct', 'Llama-3.3-70B-Instruct', 'DeepSeek-V3-H100', 'bge-m3']) expect(demo.stdout).toContain(model);
    const report = outputs['llm-monitor report']!;
    expect(report.stderr).toBe('');
    expect(report.stdout).toMatch(/^All recorded data \(requests .*\), times in UTC · webui\/monitoring\.db\n/);
    expect(report.stdout).toMatch(/│ total\s+│/);
    const cli = join(prefix(), 'lib', 'node_modules', '@llm-monitor', 'cli');
    expect(readJson(join(cli, 'package.json')).version).toBe(expected);
    expect(existsSync(join(cli, 'dist', 'analyzer', 'index.html')), 'the analyzer for llm-monitor serve').toBe(true);
  });
});
