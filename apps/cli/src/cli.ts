import { createRequire } from 'node:module';
import { isMonitorError } from '@llm-monitor/core';
import { Command, CommanderError } from 'commander';
import { registerDemoCommand } from './commands/demo.js';
import { registerExportDbCommand } from './commands/export-db.js';
import { registerExportCommand } from './commands/export.js';
import { registerInsightsCommand } from './commands/insights.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerModelsCommand } from './commands/models.js';
import { registerPricingCommand } from './commands/pricing.js';
import { registerProxyCommand } from './commands/proxy.js';
import { registerReportCommand } from './commands/report.js';
import { registerServeCommand } from './commands/serve.js';
import { BrokenPipe } from './lib/output.js';
import { useSynopses } from './lib/synopsis.js';
import { UserError } from './user-error.js';

/**
 * The installed package's version, read when the program starts (dist/ and src/ sit beside package.json):
 * a build made before `changeset version` still reports the version it is published as.
 */
const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/**
 * The `llm-monitor` program. Every command lives in its own module under `commands/` and adds itself
 * with `program.command(…)`, so it inherits the settings below (errors thrown, not exits).
 */
export function createProgram(): Command {
  const program = new Command('llm-monitor')
    .description('Record and inspect what locally hosted LLMs cost: runtime, tokens per request, billing.')
    .version(VERSION, '-v, --version')
    .exitOverride()
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      `
Every command reads webui/monitoring.db unless --db PATH says otherwise; --db postgres://user@host:5432/db
(with --schema NAME) works on a PostgreSQL database instead.
Exit codes: 0 success, 1 something to fix (one line on stderr says what), 2 a usage error.

Examples:
  $ llm-monitor demo                      a simulated week in webui/monitoring.db, for a first look
  $ llm-monitor report --last 7d --by day usage and cost per day, then per model
  $ llm-monitor insights --last 7d        billing advice, idle money, cache savings, tiers at work,
                                          a month projection; --compare openai:gpt-4o-mini for cloud prices
  $ llm-monitor models                    the models, their billing and last request
  $ llm-monitor serve                     the browser analyzer with the database loaded
  $ llm-monitor migrate --from webui/monitoring.db --to postgres://monitor@db.internal/llm
                                          copy the file into PostgreSQL, counts verified
  $ llm-monitor proxy --upstream http://127.0.0.1:8080
                                          record a llama.cpp server's requests
  $ llm-monitor help report               any command's options and examples`,
    );
  registerReportCommand(program);
  registerInsightsCommand(program);
  registerModelsCommand(program);
  registerPricingCommand(program);
  registerExportCommand(program);
  registerExportDbCommand(program);
  registerServeCommand(program);
  registerMigrateCommand(program);
  registerProxyCommand(program);
  registerDemoCommand(program);
  useSynopses(program);
  return program;
}

/**
 * Runs the CLI on `argv` (as in `process.argv`) and resolves the exit code: 0 on success (and for
 * `--help`/`--version`), 1 when the user must fix something (one line on stderr naming it), 2 on a usage
 * error (commander has printed it).
 */
export async function run(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  if (argv.length <= 2) {
    program.outputHelp({ error: true });
    return 2;
  }
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof BrokenPipe) return 0;
    const known = error instanceof UserError || isMonitorError(error);
    const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
    process.stderr.write(`llm-monitor: ${known ? message : `unexpected error: ${message}`}\n`);
    if (!known && process.env.LLM_MONITOR_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return 1;
  }
}
