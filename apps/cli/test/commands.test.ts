import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixture, expectUsageError, expectUserError, removeDir, requireBuiltBin, runBin, tempDir } from './cli-harness.js';

let dir: string;
let s1: string;

beforeAll(() => {
  requireBuiltBin();
  dir = tempDir('commands');
  s1 = copyFixture('seed-v1-dev', dir);
});
afterAll(() => removeDir(dir));

const COMMANDS = [
  ['report'],
  ['models'],
  ['pricing'],
  ['pricing', 'show'],
  ['pricing', 'set-method'],
  ['pricing', 'set-hourly'],
  ['pricing', 'set-tiers'],
  ['pricing', 'export'],
  ['pricing', 'import'],
  ['export'],
  ['export', 'requests'],
  ['export', 'runtime'],
  ['export-db'],
  ['serve'],
  ['migrate'],
  ['demo'],
  ['proxy'],
];

describe('every command', () => {
  it('has --help with examples, exit 0', async () => {
    const results = await Promise.all(COMMANDS.map((command) => runBin([...command, '--help'])));
    results.forEach((result, i) => {
      const name = COMMANDS[i]!.join(' ');
      expect(result.code, `${name}: ${result.stderr}`).toBe(0);
      expect(result.stdout, name).toContain(`Usage: llm-monitor ${name}`);
      expect(result.stdout, name).toContain('Examples:');
      expect(result.stdout, name).toContain(`$ llm-monitor ${COMMANDS[i]![0]}`);
      if (!['pricing', 'export', 'migrate'].includes(name)) expect(result.stdout, name).toContain('--db <path>');
    });
    const top = await runBin(['--help']);
    for (const [command] of COMMANDS) expect(top.stdout).toContain(`  ${command}`);
  });

  it('reports a missing database file as exit 1 naming the path, and creates nothing', async () => {
    const missing = join(dir, 'webui', 'monitoring.db');
    const results = await Promise.all(
      [
        ['report'],
        ['models'],
        ['pricing', 'show', 'm'],
        ['pricing', 'export', join(dir, 'p.json')],
        ['export', 'requests'],
        ['export', 'runtime'],
        ['export-db', '--out', join(dir, 'copy.db')],
        ['serve', '--port', '0'],
      ].map((args) => runBin([...args, '--db', missing])),
    );
    for (const result of results) expectUserError(result, `no database at ${missing}: the file does not exist`);
    expect(existsSync(join(dir, 'webui'))).toBe(false);
  });

  it('uses webui/monitoring.db under the working directory by default', async () => {
    const cwd = join(dir, 'project');
    mkdirSync(join(cwd, 'webui'), { recursive: true });
    expectUserError(await runBin(['models'], { cwd }), 'no database at webui/monitoring.db');
    copyFixture('seed-v1-dev', join(cwd, 'webui'), 'monitoring.db');
    const result = await runBin(['models', '--format', 'json'], { cwd });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toHaveLength(3);
  });

  it('reports files that are not monitor databases as exit 1', async () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'These are notes, not a database. '.repeat(10));
    expectUserError(await runBin(['report', '--db', text]), `${text} is not a SQLite database`);
    const other = join(dir, 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)');
    db.close();
    expectUserError(await runBin(['models', '--db', other]), `${other} is not a monitor database`);
    expectUserError(await runBin(['pricing', 'set-hourly', 'm', '1', '--db', other]), 'is not a monitor database');
    expectUserError(await runBin(['report', '--db', dir]), 'is not a file');
  });

  it('usage errors exit 2 with commander\'s message', async () => {
    const none = await runBin([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: llm-monitor');
    expectUsageError(await runBin(['reprot']), "unknown command 'reprot'");
    expectUsageError(await runBin(['report', '--db', s1, '--colour']), "unknown option '--colour'");
    expectUsageError(await runBin(['report', '--db', s1, '--format', 'xml']), "argument 'xml' is invalid. Allowed choices are table, json, csv");
    expectUsageError(await runBin(['report', '--db', s1, '--by', 'year']), 'Allowed choices are hour, day, week, month');
    expectUsageError(await runBin(['report', '--db', s1, '--from', 'yesterday']), "option '--from <time>' argument 'yesterday' is invalid");
    expectUsageError(await runBin(['report', '--db', s1, '--to', '2024-02-30']), '--to');
    expectUsageError(await runBin(['report', '--db', s1, '--last', '7x']), 'expected a duration');
    expectUsageError(await runBin(['report', '--db', s1, '--last', '7d', '--from', '2024-01-01']), "option '--last <duration>' cannot be used with option '--from <time>'");
    expectUsageError(await runBin(['report', '--db', s1, '--tz', 'Mars/Olympus_Mons']), 'expected an IANA time zone');
    expectUsageError(await runBin(['models', '--db']), "option '--db <path>' argument missing");
    expectUsageError(await runBin(['pricing', 'show']), "missing required argument 'model'");
    expectUsageError(await runBin(['pricing', 'frobnicate']), "unknown command 'frobnicate'");
    for (const group of ['export', 'pricing']) {
      const bare = await runBin([group]);
      expectUsageError(bare, `Usage: llm-monitor ${group} [options] [command]`);
      expect(bare.code, group).toBe(2);
    }
    const version = await runBin(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('an empty --db (or --from/--to) is a usage error on every command, and creates nothing', async () => {
    const cwd = tempDir('empty-db');
    try {
      const runs: [string[], string][] = [
        ...[
          ['report'],
          ['models'],
          ['pricing', 'show', 'm'],
          ['pricing', 'set-hourly', 'm', '1'],
          ['pricing', 'export', 'p.json'],
          ['export', 'requests'],
          ['export', 'runtime'],
          ['export-db', '--out', 'copy.db'],
          ['serve', '--port', '0'],
          ['demo'],
          ['proxy', '--upstream', 'http://127.0.0.1:9'],
        ].map((args): [string[], string] => [[...args, '--db', ''], "option '--db <path>' argument '' is invalid"]),
        [['migrate', '--from', '', '--to', 'copy.db'], "option '--from <db>' argument '' is invalid"],
        [['migrate', '--from', s1, '--to', ' '], "option '--to <db>' argument ' ' is invalid"],
      ];
      const results = await Promise.all(runs.map(([args]) => runBin(args, { cwd })));
      results.forEach((result, i) => {
        expectUsageError(result, runs[i]![1]);
        expect(result.stderr, runs[i]![0].join(' ')).toContain('expected a SQLite file path or a postgres:// URL, not an empty string');
      });
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      removeDir(cwd);
    }
  });
});
