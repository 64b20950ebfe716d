import { isMonitorError } from '@llm-monitor/core';
import { Command, CommanderError } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { registerProxyCommand } from './commands/proxy.js';
import { UserError } from './user-error.js';

/**
 * The `llm-monitor` program. Every command lives in its own module under `commands/` and adds itself
 * with `program.command(…)`, so it inherits the settings below (errors thrown, not exits).
 */
export function createProgram(): Command {
  const program = new Command('llm-monitor')
    .description('Record and inspect what locally hosted LLMs cost: runtime, tokens per request, billing.')
    .version(packageJson.version, '-v, --version')
    .exitOverride()
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor proxy --upstream http://127.0.0.1:8080
  $ llm-monitor proxy --help`,
    );
  registerProxyCommand(program);
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
    const known = error instanceof UserError || isMonitorError(error);
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`llm-monitor: ${known ? message : `unexpected error: ${message}`}\n`);
    if (!known && process.env.LLM_MONITOR_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return 1;
  }
}
