import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../src/cli.js';
import { requireBuiltBin, runBin } from './cli-harness.js';

// The synopsis of every command, as `--help` prints it on its Usage line, is what the docs show: docs/cli.md
// lists every command, and any other synopsis in the docs (a line of a ```sh block that starts with
// `llm-monitor` and has an optional `[--…]`) must be the same.

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const DOCS = [
  'apps/cli/README.md',
  ...readdirSync(`${REPO}docs`)
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

function leafCommands(command: Command, path: string[] = []): string[][] {
  if (command.commands.length === 0) return [path];
  return command.commands.filter((sub) => sub.name() !== 'help').flatMap((sub) => leafCommands(sub, [...path, sub.name()]));
}

/** The synopses in a Markdown file: `llm-monitor …` lines of sh blocks with a `[--`, continuation lines joined. */
function documentedSynopses(markdown: string): string[] {
  const synopses: string[] = [];
  for (const block of markdown.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    const lines = block[1]!.split('\n');
    lines.forEach((line, i) => {
      if (!line.startsWith('llm-monitor ') || !line.includes(' [--')) return;
      let joined = line;
      for (let j = i + 1; j < lines.length && /^\s+\S/.test(lines[j]!); j++) joined += ` ${lines[j]!.trim()}`;
      synopses.push(joined.replace(/\s+/g, ' ').trim());
    });
  }
  return synopses;
}

const leaves = leafCommands(createProgram());

/** What `llm-monitor <path> --help` prints (commander's help text, built in this process). */
function help(path: readonly string[]): string {
  let command = createProgram();
  for (const name of path) command = command.commands.find((sub) => sub.name() === name)!;
  return command.helpInformation();
}

const usage = new Map(leaves.map((path) => [path.join(' '), /^Usage: (.*)$/m.exec(help(path))![1]!]));

beforeAll(() => requireBuiltBin());

const commandOf = (synopsis: string) => leaves.map((path) => path.join(' ')).find((path) => synopsis.startsWith(`llm-monitor ${path} `));

describe('documented synopses', () => {
  it('every command has one in docs/cli.md, exactly as its --help prints it', () => {
    const documented = documentedSynopses(readFileSync(`${REPO}docs/cli.md`, 'utf8'));
    for (const [command, line] of usage) expect(documented, `llm-monitor ${command}`).toContain(line);
  });

  it.each(DOCS)('every synopsis in %s is its command\'s --help', (doc) => {
    for (const synopsis of documentedSynopses(readFileSync(`${REPO}${doc}`, 'utf8'))) {
      const command = commandOf(synopsis);
      expect(command, `${doc}: ${synopsis} names no command`).toBeDefined();
      expect(synopsis, doc).toBe(usage.get(command!));
    }
  });

  it('the built command prints the same usage line', async () => {
    const printed = await runBin(['export', 'runtime', '--help']);
    expect(printed.code).toBe(0);
    expect(printed.stdout.split('\n')[0]).toBe(`Usage: ${usage.get('export runtime')}`);
  });

  it('--help lists every option a command takes, and the synopsis names them all', () => {
    for (const path of leaves) {
      let command = createProgram();
      for (const name of path) command = command.commands.find((sub) => sub.name() === name)!;
      const line = usage.get(path.join(' '))!;
      for (const option of command.options) expect(line, path.join(' ')).toContain(`${option.long}`);
      for (const argument of command.registeredArguments) expect(line, path.join(' ')).toContain(argument.argChoices?.join('|') ?? argument.name().toUpperCase());
    }
  });
});
