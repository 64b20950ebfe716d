import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, inject, it } from 'vitest';
import { tarballProblems } from '../lib/checks.js';
import { readTarball, unpackedSize } from '../lib/tar.js';
import { type ChangesetConfig, NODE_RANGE, ROOT, publishedPackages, readJson, workspacePackages } from '../lib/workspace.js';

// Every published package packed with `pnpm pack`, as `pnpm publish` packs it, and read back from the
// tarball: what npm users get. See lib/checks.ts for what is asserted of each.

const packed = inject('packed');
const published = publishedPackages();
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

describe('the published packages', () => {
  it('are the changesets fixed group, at one version; every private package is ignored by changesets', () => {
    const config = readJson<ChangesetConfig>(join(ROOT, '.changeset', 'config.json'));
    const names = published.map((p) => p.json.name).sort();
    expect(config.fixed.map((group) => [...group].sort())).toEqual([names]);
    expect(config.access).toBe('public');
    const privates = workspacePackages()
      .filter((p) => p.json.private)
      .map((p) => p.json.name);
    expect([...config.ignore].sort()).toEqual(privates.sort());
    expect(new Set(published.map((p) => p.json.version)).size).toBe(1);
    expect(names).toEqual(['@llm-monitor/cli', '@llm-monitor/core', '@llm-monitor/driver-node', '@llm-monitor/driver-postgres', '@llm-monitor/driver-wasm']);
  });

  it.each(published.map((p) => [p.json.name, p] as const))('%s: its tarball holds what npm users need, and nothing else', (name, { dir, json }) => {
    const pack = packed.find((p) => p.name === name)!;
    const tarball = readTarball(pack.file);
    expect(tarballProblems(tarball, { dir, version: json.version })).toEqual([]);
    if (existsSync(join(ROOT, dir, 'CHANGELOG.md')))
      expect(tarball.files.get('CHANGELOG.md')?.toString('utf8')).toBe(readFileSync(join(ROOT, dir, 'CHANGELOG.md'), 'utf8'));
    const files = [...tarball.files.keys()].sort();
    console.log(
      `${name}@${json.version}: ${files.length} files, ${kib(tarball.packedSize)} packed, ${kib(unpackedSize(tarball))} unpacked\n` +
        files.map((file) => `  ${kib(tarball.files.get(file)!.length).padStart(10)}  ${file}`).join('\n'),
    );
  });

  it('the CLI ships its bin and the browser analyzer that `llm-monitor serve` serves', () => {
    const tarball = readTarball(packed.find((p) => p.name === '@llm-monitor/cli')!.file);
    expect(tarball.files.has('dist/bin.js')).toBe(true);
    expect(tarball.files.get('dist/analyzer/index.html')?.toString('utf8')).toContain('<script type="module"');
    expect([...tarball.files.keys()].some((file) => /^dist\/analyzer\/assets\/.*\.wasm$/.test(file))).toBe(true);
  });

  it(`declare Node ${NODE_RANGE}, which every runtime dependency accepts`, () => {
    expect(readJson(join(ROOT, 'package.json')).engines?.node).toBe(NODE_RANGE);
    const floor = semver.minVersion(NODE_RANGE)!;
    const problems: string[] = [];
    for (const { dir, json } of published) {
      for (const dependency of Object.keys({ ...json.dependencies, ...json.peerDependencies })) {
        if (dependency.startsWith('@llm-monitor/')) continue;
        const engines = readJson(join(ROOT, dir, 'node_modules', dependency, 'package.json')).engines?.node;
        if (engines && !semver.satisfies(floor, engines)) problems.push(`${json.name} → ${dependency} needs Node ${engines}, but Node ${floor} is allowed`);
      }
    }
    expect(problems).toEqual([]);
  });
});
