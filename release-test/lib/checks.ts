import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codeBlocks, headingAnchors, links } from './markdown.js';
import type { Tarball } from './tar.js';
import { NODE_RANGE, type PackageJson, REPOSITORY, ROOT } from './workspace.js';

/** What a published package's tarball may hold besides `dist/`. */
const TOP_LEVEL = new Set(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']);

/** Export conditions of `"."`, in the order Node and TypeScript need them: types first, the fallback last. */
const CONDITIONS = ['types', 'import', 'default'];

/** Words of developer-only instructions that have no place on an npm page. */
const DEVELOPER_ONLY = [/pnpm --filter/, /npx turbo/, /turbo run/, /LLM_MONITOR_PG_(URL|SKIP)/, /\bvitest\b/];

export interface Expectation {
  /** The folder in the repository (`packages/core`): `repository.directory` and the homepage. */
  dir: string;
  /** The version the tarball must carry; every `@llm-monitor/*` dependency must pin it too (lockstep). */
  version: string;
  /** A changelog section the tarball's CHANGELOG.md must have (`## 0.2.0`); absent: CHANGELOG.md is optional. */
  changelogVersion?: string;
}

const isAbsoluteUrl = (target: string) => /^https:\/\//.test(target);

/** Problems of a README as an npm page; empty when none. */
export function readmeProblems(name: string, readme: string): string[] {
  const problems: string[] = [];
  const anchors = headingAnchors(readme);
  for (const target of links(readme)) {
    if (target.startsWith('#')) {
      if (!anchors.has(target.slice(1))) problems.push(`README links to #${target.slice(1)}, a heading it does not have`);
    } else if (!isAbsoluteUrl(target)) problems.push(`README has a relative or non-https link: ${target}`);
    else if (target.startsWith('https://github.com/') && !target.startsWith(`${REPOSITORY}/`) && !/github\.com\/(WiseLibs|lingyezhixing)\//.test(target))
      problems.push(`README links to another repository than ${REPOSITORY}: ${target}`);
  }
  for (const pattern of DEVELOPER_ONLY) if (pattern.test(readme)) problems.push(`README has developer-only instructions (${pattern})`);
  const blocks = codeBlocks(readme);
  const install = name === '@llm-monitor/cli' ? `npm install -g ${name}` : `npm install ${name}`;
  if (!blocks.some((b) => b.lang === 'sh' && b.code.includes(install))) problems.push(`README has no sh block with \`${install}\``);
  const self = (b: (typeof blocks)[number]) => b.code.includes(`'${name}'`);
  if (!blocks.some((b) => b.file?.endsWith('.mjs') && self(b) && b.code.includes('import ')))
    problems.push(`README has no ES module example (a block starting // NAME.mjs that imports ${name})`);
  if (!blocks.some((b) => b.file?.endsWith('.cjs') && self(b) && b.code.includes(`require('${name}')`)))
    problems.push(`README has no CommonJS example (a block starting // NAME.cjs that requires ${name})`);
  if (!/^## License\s+MIT\b/m.test(readme)) problems.push('README does not end with "## License" MIT');
  return problems;
}

/** Problems of a package tarball (as `pnpm pack` or the registry gives it); empty when none. */
export function tarballProblems(tarball: Tarball, expected: Expectation): string[] {
  const problems: string[] = [];
  const text = (path: string) => tarball.files.get(path)?.toString('utf8');
  const manifestText = text('package.json');
  if (!manifestText) return ['no package.json'];
  const pkg = JSON.parse(manifestText) as PackageJson;
  const name = pkg.name;

  for (const path of tarball.files.keys())
    if (!TOP_LEVEL.has(path) && !path.startsWith('dist/')) problems.push(`ships ${path}, which is neither dist/ nor package.json, README.md, LICENSE, CHANGELOG.md`);
  for (const path of ['package.json', 'README.md', 'LICENSE']) if (!tarball.files.has(path)) problems.push(`has no ${path}`);
  if (text('LICENSE') !== readFileSync(join(ROOT, 'LICENSE'), 'utf8')) problems.push('LICENSE is not the repository\'s MIT license');
  const readme = text('README.md');
  if (readme) problems.push(...readmeProblems(name, readme));

  if (pkg.version !== expected.version) problems.push(`version ${pkg.version}, expected ${expected.version}`);
  if (pkg.license !== 'MIT') problems.push(`license ${pkg.license}, expected MIT`);
  if (!pkg.description) problems.push('no description');
  if (!Array.isArray(pkg.keywords) || pkg.keywords.length < 3) problems.push('fewer than 3 keywords');
  if (pkg.type !== 'module') problems.push(`type ${pkg.type}, expected module`);
  const repository = { type: 'git', url: `git+${REPOSITORY}.git`, directory: expected.dir };
  if (JSON.stringify(pkg.repository) !== JSON.stringify(repository)) problems.push(`repository ${JSON.stringify(pkg.repository)}, expected ${JSON.stringify(repository)}`);
  if (pkg.homepage !== `${REPOSITORY}/tree/main/${expected.dir}#readme`) problems.push(`homepage ${pkg.homepage}`);
  if (pkg.bugs?.url !== `${REPOSITORY}/issues`) problems.push(`bugs ${JSON.stringify(pkg.bugs)}`);
  if (pkg.engines?.node !== NODE_RANGE) problems.push(`engines.node ${pkg.engines?.node}, expected ${NODE_RANGE}`);

  const root = pkg.exports?.['.'];
  for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
    if (subpath === './package.json') continue;
    if (typeof target !== 'object') problems.push(`exports["${subpath}"] is not a conditions object`);
    else {
      if (JSON.stringify(Object.keys(target)) !== JSON.stringify(CONDITIONS))
        problems.push(`exports["${subpath}"] conditions ${Object.keys(target).join(', ')}, expected ${CONDITIONS.join(', ')}`);
      if (target.import !== target.default) problems.push(`exports["${subpath}"].default is not the ES module import (require() of ESM on Node >= 20.19)`);
    }
  }
  if (typeof root !== 'object') problems.push('exports has no "."');
  if (pkg.exports?.['./package.json'] !== './package.json') problems.push('exports lacks "./package.json"');
  const conditions = Object.values(pkg.exports ?? {}).flatMap((target) => (typeof target === 'object' ? Object.values(target) : [target]));
  const entries = [pkg.main, pkg.types, ...Object.values(pkg.bin ?? {}), ...conditions];
  for (const entry of entries) if (entry && !tarball.files.has(entry.replace(/^\.\//, ''))) problems.push(`${entry} is named in package.json but not in the tarball`);
  if (pkg.bin) for (const bin of Object.values(pkg.bin)) if (!text(bin.replace(/^\.\//, ''))?.startsWith('#!/usr/bin/env node\n')) problems.push(`${bin} has no node shebang`);

  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'] as const)
    for (const [dependency, range] of Object.entries(pkg[field] ?? {})) {
      if (/^(workspace|link|file|portal):/.test(range)) problems.push(`${field}.${dependency} is ${range}, which npm cannot install`);
      else if (field !== 'devDependencies' && dependency.startsWith('@llm-monitor/') && range !== expected.version)
        problems.push(`${field}.${dependency} is ${range}: the packages version in lockstep, expected exactly ${expected.version}`);
    }

  const changelog = text('CHANGELOG.md');
  if (expected.changelogVersion !== undefined) {
    if (!changelog) problems.push('has no CHANGELOG.md');
    else if (!new RegExp(`^## ${expected.changelogVersion.replace(/\./g, '\\.')}$`, 'm').test(changelog))
      problems.push(`CHANGELOG.md has no "## ${expected.changelogVersion}" section`);
  }
  if (changelog !== undefined && !changelog.startsWith(`# ${name}\n`)) problems.push(`CHANGELOG.md does not start with "# ${name}"`);
  return problems;
}
