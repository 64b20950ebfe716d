import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import semver from 'semver';
import { runOk } from './run.js';
import { ROOT, workspacePackages } from './workspace.js';

/**
 * A throwaway copy of the repository, as a release starts from it: the workspace's manifests, the
 * changesets, and each published package's README, LICENSE, CHANGELOG.md and built `dist/` (as turbo
 * built them), committed to a new git repository (changesets tags releases). `node_modules` links to the
 * workspace's, where the changesets CLI and its changelog generator are, and each package links the
 * workspace packages it depends on.
 */
export async function copyRepository(to: string): Promise<void> {
  mkdirSync(to, { recursive: true });
  for (const file of ['package.json', 'pnpm-workspace.yaml', 'pnpm-lock.yaml', 'LICENSE', 'README.md', '.changeset'])
    cpSync(join(ROOT, file), join(to, file), { recursive: true });
  for (const { dir, json } of workspacePackages()) {
    mkdirSync(join(to, dir), { recursive: true });
    const files = json.private ? ['package.json'] : ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist'];
    for (const file of files) if (existsSync(join(ROOT, dir, file))) cpSync(join(ROOT, dir, file), join(to, dir, file), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(to, 'node_modules'), 'dir');
  // the links `pnpm install` makes between workspace packages: pnpm publish reads the versions that
  // replace `workspace:` ranges from them
  const dirs = new Map(workspacePackages(to).map((p) => [p.json.name, p.dir]));
  for (const { dir, json } of workspacePackages(to))
    for (const [name, range] of Object.entries({ ...json.dependencies, ...json.devDependencies, ...json.peerDependencies, ...json.optionalDependencies }))
      if (range.startsWith('workspace:') && dirs.has(name) && !existsSync(join(to, dir, 'node_modules', name))) {
        mkdirSync(dirname(join(to, dir, 'node_modules', name)), { recursive: true });
        symlinkSync(join(to, dirs.get(name)!), join(to, dir, 'node_modules', name), 'dir');
      }
  const git = (...args: string[]) =>
    runOk('git', args, {
      cwd: to,
      env: { ...process.env, GIT_AUTHOR_NAME: 'Rehearsal', GIT_AUTHOR_EMAIL: 'rehearsal@example.invalid', GIT_COMMITTER_NAME: 'Rehearsal', GIT_COMMITTER_EMAIL: 'rehearsal@example.invalid' },
    });
  await git('init', '--quiet', '--initial-branch=main');
  await git('add', '--all');
  await git('commit', '--quiet', '--no-verify', '--message', 'Release rehearsal: the working tree');
}

export type Bump = 'major' | 'minor' | 'patch';

export interface Changeset {
  file: string;
  releases: Record<string, Bump>;
  /** The change note, as it goes into the changelogs. */
  summary: string;
}

/** The changesets waiting in `.changeset/` (every .md but its README). */
export function pendingChangesets(repo: string): Changeset[] {
  const dir = join(repo, '.changeset');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.md') && file !== 'README.md')
    .map((file) => {
      const text = readFileSync(join(dir, file), 'utf8');
      const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
      if (!match) throw new Error(`.changeset/${file} has no front matter`);
      const releases: Record<string, Bump> = {};
      for (const line of match[1]!.split('\n').filter((l) => l.trim())) {
        const release = /^\s*['"]?([^'":]+)['"]?\s*:\s*(major|minor|patch)\s*$/.exec(line);
        if (!release) throw new Error(`.changeset/${file}: cannot read ${JSON.stringify(line)}`);
        releases[release[1]!] = release[2] as Bump;
      }
      return { file, releases, summary: match[2]!.trim() };
    });
}

/** The version a `fixed` group goes to: its current version raised by the largest bump any changeset asks of a member. */
export function nextGroupVersion(current: string, group: readonly string[], changesets: readonly Changeset[]): string {
  const bumps = changesets.flatMap((c) => Object.entries(c.releases).filter(([name]) => group.includes(name)).map(([, bump]) => bump));
  const bump = (['major', 'minor', 'patch'] as const).find((b) => bumps.includes(b));
  if (!bump) return current;
  return semver.inc(current, bump)!;
}
