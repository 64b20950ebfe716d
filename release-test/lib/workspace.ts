import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The one public address of the repository: every package's `repository`, `homepage`, `bugs` and README link to it. */
export const REPOSITORY = 'https://github.com/llm-monitor/llm-monitor';

/** The oldest Node.js the published packages support: require() of ES modules is unflagged from here on. */
export const NODE_RANGE = '>=20.19';

export interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  description?: string;
  license?: string;
  homepage?: string;
  bugs?: { url?: string };
  repository?: { type?: string; url?: string; directory?: string };
  keywords?: string[];
  type?: string;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: Record<string, string | Record<string, string>>;
  files?: string[];
  engines?: Record<string, string>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface WorkspacePackage {
  /** The folder, relative to the root, with forward slashes (`packages/core`). */
  dir: string;
  json: PackageJson;
}

export const readJson = <T = PackageJson>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

/** The folders pnpm-workspace.yaml lists (`packages/*` expanded), each with its package.json. */
export function workspacePackages(root = ROOT): WorkspacePackage[] {
  const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const globs = [...(/^packages:\n((?:\s+-\s+.+\n?)+)/m.exec(yaml)?.[1] ?? '').matchAll(/-\s+['"]?([^'"\n]+)['"]?/g)].map((m) => m[1]!.trim());
  const dirs = globs.flatMap((glob) => {
    if (!glob.endsWith('/*')) return [glob];
    const parent = glob.slice(0, -2);
    return readdirSync(join(root, parent), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `${parent}/${entry.name}`);
  });
  return dirs
    .filter((dir) => existsSync(join(root, dir, 'package.json')))
    .map((dir) => ({ dir: relative(root, join(root, dir)).split('\\').join('/'), json: readJson(join(root, dir, 'package.json')) }));
}

/** The packages that go to npm: every workspace package that is not private. */
export const publishedPackages = (root = ROOT) => workspacePackages(root).filter((p) => !p.json.private);

/** `@llm-monitor/driver-node` → `llm-monitor-driver-node-0.1.0.tgz`, as npm and pnpm name a tarball. */
export const tarballName = (name: string, version: string) => `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;

/** A root devDependency's command (the file its package.json `bin` names), to run with this Node. */
function rootBin(pkg: string, command: string): string {
  const manifest = join(ROOT, 'node_modules', pkg, 'package.json');
  const bin = readJson<{ bin: string | Record<string, string> }>(manifest).bin;
  return join(dirname(manifest), typeof bin === 'string' ? bin : bin[command]!);
}

/** The workspace's own pnpm. */
export const PNPM = rootBin('pnpm', 'pnpm');

/** The workspace's changesets CLI. */
export const CHANGESET = rootBin('@changesets/cli', 'changeset');

/** `.changeset/config.json`. */
export interface ChangesetConfig {
  fixed: string[][];
  ignore: string[];
  access: string;
}
