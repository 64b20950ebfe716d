import type { Argument, Command, Option } from 'commander';

/** Options every database command has: listed last, after what is particular to the command. */
const COMMON = new Set(['--db', '--schema']);

/** An option whose parser collects repeated values into an array (`--model A --model B`). */
function isRepeatable(option: Option): boolean {
  try {
    return Array.isArray(option.parseArg?.('x', undefined as never));
  } catch {
    return false;
  }
}

const choicesOr = (choices: readonly string[] | undefined, name: string) => (choices ? choices.join('|') : name.toUpperCase());

function argumentSynopsis(argument: Argument): string {
  const name = choicesOr(argument.argChoices, argument.name()) + (argument.variadic ? '…' : '');
  return argument.required ? name : `[${name}]`;
}

function optionSynopsis(option: Option): string {
  const value = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1];
  const flag = value === undefined ? option.long! : `${option.long} ${choicesOr(option.argChoices, value)}`;
  if (option.mandatory) return flag;
  return `[${flag}]${isRepeatable(option) ? '…' : ''}`;
}

/**
 * A command's synopsis from its own definition: arguments, then required options, then the others
 * (`--db` and `--schema` last), e.g. `MODEL FILE [--allow-gaps] [--db PATH] [--schema NAME]`.
 * docs/cli.md lists these for every command, and a test keeps the two the same.
 */
function synopsis(command: Command): string {
  const options = command.options.filter((o) => o.long !== undefined);
  const ordered = [
    ...options.filter((o) => o.mandatory),
    ...options.filter((o) => !o.mandatory && !COMMON.has(o.long!)),
    ...options.filter((o) => !o.mandatory && COMMON.has(o.long!)),
  ];
  return [...command.registeredArguments.map(argumentSynopsis), ...ordered.map(optionSynopsis)].join(' ');
}

/** Sets every leaf command's usage line (`Usage: llm-monitor …` in `--help`) to its synopsis. */
export function useSynopses(command: Command): void {
  if (command.commands.length === 0) command.usage(synopsis(command));
  for (const sub of command.commands) useSynopses(sub);
}
