import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The original's reference databases, shipped by @llm-monitor/test-kit: S1 (rollback journal) and S6 (WAL). */
export type FixtureName = 'seed-v1-dev' | 'normalized-v2-dev';
const fixturePath = (name: FixtureName) => createRequire(import.meta.url).resolve(`@llm-monitor/test-kit/fixtures/${name}.db`);

/** The built bin: `pnpm build` (turbo runs it before `test`) must have run. */
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

export function requireBuiltBin(): void {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm --filter @llm-monitor/cli build\` first`);
}

export interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  input?: string;
  env?: Record<string, string>;
  /** Extra node flags before the bin (e.g. a preload). */
  nodeArgs?: string[];
}

export function collect(child: ChildProcessWithoutNullStreams): { output: { stdout: string; stderr: string }; exited: Promise<Exited> } {
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr.on('data', (chunk: string) => (output.stderr += chunk));
  const exited = new Promise<Exited>((resolve) => child.on('close', (code) => resolve({ code, ...output })));
  return { output, exited };
}

/** Starts `llm-monitor …` as a child process. */
export function startBin(args: string[], options: RunOptions = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, TZ: 'UTC', ...options.env },
  });
}

/** Runs `llm-monitor …` to completion. */
export function runBin(args: string[], options: RunOptions = {}): Promise<Exited> {
  const child = startBin(args, options);
  const { exited } = collect(child);
  child.stdin.end(options.input ?? '');
  return exited;
}

/** A new temporary folder, removed by the returned cleanup. */
export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `llm-monitor-cli-${label}-`));
}

export const removeDir = (dir: string | undefined) => dir && rmSync(dir, { recursive: true, force: true });

/** A copy of one of the original's reference databases (S1 seed-v1-dev, S6 normalized-v2-dev, WAL). */
export function copyFixture(name: FixtureName, dir: string, as = `${name}.db`): string {
  const target = join(dir, as);
  copyFileSync(fixturePath(name), target);
  return target;
}

export const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** An error the CLI reported the way it should: exit 1, one line naming the problem, no stack trace. */
export function expectUserError(result: Exited, ...fragments: string[]): void {
  const problems: string[] = [];
  if (result.code !== 1) problems.push(`exit code ${result.code}, expected 1`);
  const lines = result.stderr.split('\n').filter(Boolean);
  if (lines.length !== 1) problems.push(`${lines.length} lines on stderr, expected 1`);
  if (!result.stderr.startsWith('llm-monitor: ')) problems.push('stderr does not start with "llm-monitor: "');
  if (/\n\s+at /.test(result.stderr) || result.stderr.includes('unexpected error')) problems.push('a stack trace or an unexpected error');
  for (const fragment of fragments) if (!result.stderr.includes(fragment)) problems.push(`stderr lacks ${JSON.stringify(fragment)}`);
  if (problems.length > 0) throw new Error(`${problems.join('; ')}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
}

/** A usage error: exit 2, commander's message on stderr, nothing on stdout. */
export function expectUsageError(result: Exited, fragment?: string): void {
  const problems: string[] = [];
  if (result.code !== 2) problems.push(`exit code ${result.code}, expected 2`);
  if (result.stdout !== '') problems.push('something on stdout');
  if (fragment && !result.stderr.includes(fragment)) problems.push(`stderr lacks ${JSON.stringify(fragment)}`);
  if (problems.length > 0) throw new Error(`${problems.join('; ')}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
}
