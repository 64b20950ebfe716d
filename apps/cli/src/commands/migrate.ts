import { existsSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { copyDatabase, formatNumber, isMonitorError } from '@llm-monitor/core';
import type { Command } from 'commander';
import { type Db, isPostgresUrl, openForRecording, openReadOnly, parseDbArg, resolveDb, schemaOption, using } from '../lib/db.js';
import { type Column, renderTable } from '../lib/format.js';
import { quote } from '../lib/json-file.js';
import { UserError } from '../user-error.js';

interface MigrateOptions {
  from: string;
  to: string;
  schema?: string;
}

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .summary('copy a monitor database into a new one: a SQLite file into PostgreSQL, and back')
    .description(
      'Copy everything a monitor database holds (the program runs; per model its runs, requests and billing settings, in registration order) into a new or empty one: ' +
        'a SQLite file into PostgreSQL, a PostgreSQL database into a new SQLite file (for `serve` or `export-db`), or one file into another. ' +
        'The copy is one transaction on the target, so a failed copy writes nothing. Afterwards the two are compared (per model: requests, token sums, cost, runtime, runs and tiers; and the program runs): ' +
        'any difference is an error (exit 1). The source is only read.\n\n' +
        'A SQLite --to that does not exist is created (and removed again if the copy fails); one that exists must hold no monitoring data. ' +
        'A PostgreSQL --to gets the copy in --schema (created when missing), which must hold no monitoring data. ' +
        'Only models in the layouts llm-monitor writes (S1–S3) can be copied: a file of LLM-Manager v2.6+ (normalized tables) cannot.',
    )
    .requiredOption('--from <db>', 'the database to copy: a SQLite file, or a PostgreSQL URL (postgres://user@host:5432/db)', parseDbArg)
    .requiredOption('--to <db>', 'where to copy it: a new SQLite file, or a PostgreSQL URL', parseDbArg)
    .addOption(schemaOption('the PostgreSQL schema of the postgres:// side (default: the server\'s, usually public)'))
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor migrate --from webui/monitoring.db --to postgres://monitor@db.internal:5432/llm --schema llm_monitor
      the SQLite file into PostgreSQL, for the proxies of every host to record into
  $ llm-monitor migrate --from postgres://monitor@db.internal:5432/llm --schema llm_monitor --to monitoring-copy.db
      back into a new SQLite file, e.g. for \`llm-monitor serve --db monitoring-copy.db\`
  $ llm-monitor migrate --from old/monitoring.db --to new/monitoring.db`,
    )
    .action((options: MigrateOptions) => runMigrate(options));
}

function resolveSides(options: MigrateOptions): { from: Db; to: Db } {
  const postgres = [options.from, options.to].filter(isPostgresUrl);
  if (options.schema !== undefined && postgres.length === 0)
    throw new UserError('--schema is for the PostgreSQL side of the copy, and neither --from nor --to is a postgres:// URL: leave --schema out');
  const side = (db: string, flag: string) => resolveDb(db, isPostgresUrl(db) ? options.schema : undefined, flag);
  const from = side(options.from, '--from');
  const to = side(options.to, '--to');
  const sameFile = (a: string, b: string) => {
    const real = (path: string) => (existsSync(path) ? realpathSync(path) : resolve(path));
    return real(a) === real(b);
  };
  if (from.engine === to.engine && (from.engine === 'sqlite' ? sameFile(from.location, to.location) : from.location === to.location && from.schema === to.schema))
    throw new UserError(`--from and --to are the same database (${from.label}): copy into a new one`);
  return { from, to };
}

/** A SQLite target that exists must hold no monitoring data (checked read-only, so a refused copy leaves it untouched). */
async function checkSqliteTarget(to: Db): Promise<boolean> {
  const path = to.location;
  if (!existsSync(path)) {
    if (!existsSync(dirname(resolve(path)))) throw new UserError(`cannot create ${path}: the folder ${dirname(path)} does not exist`);
    return true;
  }
  if (!statSync(path).isFile()) throw new UserError(`${path} is not a file: give --to a new SQLite file`);
  if (statSync(path).size === 0) return false;
  let held: { models: number; programRuns: number } | null;
  try {
    held = await using(await openReadOnly(to), async (monitor) => ({
      models: (await monitor.listModels()).length,
      programRuns: (await monitor.getProgramRuntime(1)).length,
    }));
  } catch (error) {
    // no monitor tables: an empty database (one of another application is refused when opened for writes)
    if (error instanceof UserError && isMonitorError(error.cause, 'NOT_A_MONITOR_DB')) held = null;
    else throw error;
  }
  if (held && (held.models > 0 || held.programRuns > 0))
    throw new UserError(`${path} already holds monitoring data (${held.models} model${held.models === 1 ? '' : 's'}): migrate copies only into a new or empty database; choose a new --to file`);
  return false;
}

function copyError(error: unknown, to: Db, kept: string): never {
  if (!isMonitorError(error)) throw error;
  const message = error.message.replace(/\.$/, '');
  switch (error.code) {
    case 'SCHEMA_MISMATCH':
    case 'INVALID_INPUT':
      throw new UserError(`cannot migrate: ${message}`);
    case 'TARGET_NOT_EMPTY':
      throw new UserError(
        `${to.label} already holds monitoring data: migrate copies only into an empty database (${to.engine === 'postgres' ? 'choose a new --schema' : 'choose a new --to file'})`,
      );
    case 'COPY_MISMATCH': {
      const differences = error.value as string[];
      throw new UserError(
        `the copy in ${to.label} differs from its source: ${differences.slice(0, 5).join('; ')}${differences.length > 5 ? ` (and ${differences.length - 5} more)` : ''}${kept}`,
      );
    }
    default:
      throw new UserError(`cannot migrate into ${to.label}: ${message}`);
  }
}

async function runMigrate(options: MigrateOptions): Promise<void> {
  const started = performance.now();
  const { from, to } = resolveSides(options);
  const report = await using(await openReadOnly(from), async (source) => {
    // refuse what cannot be copied before anything is created on the target
    const unwritable = (await source.listModels()).filter((m) => !m.writable);
    if (unwritable.length > 0)
      throw new UserError(
        `cannot migrate ${from.label}: ${unwritable.map((m) => `${quote(m.name)} (layout ${m.shape})`).join(', ')} ${unwritable.length === 1 ? 'is' : 'are'} in a layout llm-monitor reads but does not write (only S1–S3 can be copied)`,
      );
    const created = to.engine === 'sqlite' ? await checkSqliteTarget(to) : false;
    const kept = created ? ' (the new file was removed)' : ' (delete the copy before trying again)';
    try {
      // copyDatabase checks the copy against its source (counts, token sums, cost, runtime) before it resolves
      return await using(await openForRecording(to, (label) => `cannot open ${label} to copy into`), (target) =>
        copyDatabase(source, target).catch((error: unknown) => copyError(error, to, kept)),
      );
    } catch (error) {
      // a file this command created goes again (the target is closed by now)
      if (created) removeSqliteFile(to.location);
      throw error;
    }
  });

  const seconds = (performance.now() - started) / 1000;
  const lines = [`Copied ${from.label} to ${to.label} in ${seconds.toFixed(1)} s:`, ''];
  if (report.models.length === 0) lines.push('No models.');
  else {
    const columns: Column[] = [{ header: 'model' }, { header: 'requests', align: 'right' }, { header: 'runs', align: 'right' }, { header: 'tiers', align: 'right' }];
    const rows = report.models.map((m) => [m.name, formatNumber(m.requests), formatNumber(m.runs), formatNumber(m.tiers)]);
    const totals = ['total', formatNumber(report.requests), formatNumber(report.runs), formatNumber(report.models.reduce((n, m) => n + m.tiers, 0))];
    lines.push(renderTable(columns, rows, totals));
  }
  lines.push(
    '',
    `${formatNumber(report.programRuns)} program run${report.programRuns === 1 ? '' : 's'}.`,
    'Verified: both databases hold these counts of requests, runs, tiers and program runs, and per model the same token sums, cost and runtime.',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

function removeSqliteFile(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
}
