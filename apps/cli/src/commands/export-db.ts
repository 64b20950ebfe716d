import { formatNumber } from '@llm-monitor/core';
import type { Command } from 'commander';
import { dbOption, openReadOnly, requireSqlite, using } from '../lib/db.js';
import { shellQuote } from '../lib/format.js';
import { checkOutPath } from '../lib/output.js';
import { snapshotDatabase } from '../lib/snapshot.js';

interface ExportDbOptions {
  db: string;
  out: string;
  force?: boolean;
}

export function registerExportDbCommand(program: Command): void {
  program
    .command('export-db')
    .summary('a consistent copy of the database, ready for the browser analyzer')
    .description(
      'Copy the database, consistently, while other processes keep writing to it: the copy is a snapshot of one moment, compacted, checked, and in rollback-journal mode (no -wal file), so it opens in the browser analyzer and anywhere a single file is expected. The source is only read.',
    )
    .addOption(dbOption('the monitor database, a SQLite file'))
    .requiredOption('--out <file>', 'where to write the copy')
    .option('--force', 'overwrite --out if it exists')
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor export-db --out monitoring-$(date +%F).db
  $ llm-monitor export-db --db /var/lib/llm/monitoring.db --out /tmp/monitoring.db --force`,
    )
    .action((options: ExportDbOptions) => runExportDb(options));
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function runExportDb(options: ExportDbOptions): Promise<void> {
  requireSqlite(
    options.db,
    (url) =>
      `export-db copies a SQLite file, and ${url} is a PostgreSQL database: copy it into a new SQLite file with \`llm-monitor migrate --from ${shellQuote(url)} --to ${shellQuote(options.out)}\` instead`,
  );
  checkOutPath(options.out, options.force ?? false, [options.db]);
  const { bytes } = await snapshotDatabase(options.db, options.out);
  const description = await using(await openReadOnly(options.out), (monitor) => monitor.describe());
  const requests = description.models.reduce((n, m) => n + m.requests, 0);
  const models = description.models.length;
  process.stdout.write(
    `Copied ${options.db} to ${options.out}: ${models} model${models === 1 ? '' : 's'}, ${formatNumber(requests)} requests, ${formatBytes(bytes)}, rollback journal (opens in the analyzer).\n`,
  );
}
