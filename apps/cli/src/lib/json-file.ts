import { readFileSync } from 'node:fs';
import { UserError } from '../user-error.js';

/** Reads and parses a JSON file given on the command line; a missing or malformed file is a user error naming it. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT' ? `cannot read the ${what} ${path}: the file does not exist` : `cannot read the ${what} ${path}: ${(error as Error).message}`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UserError(`the ${what} ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/** `"name"` as JSON would write it: quotes, escapes, visible whitespace. */
export const quote = (value: string): string => JSON.stringify(value);
