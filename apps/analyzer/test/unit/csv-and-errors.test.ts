import { MonitorError } from '@llm-monitor/core';
import { describe, expect, it } from 'vitest';
import { csvLine } from '../../src/lib/csv.js';
import { toUserError, tooLarge } from '../../src/worker/user-error.js';

describe('CSV', () => {
  it('quotes what needs quoting and keeps formulas from running in a spreadsheet', () => {
    expect(csvLine([1, 'plain', 1.5])).toBe('1,plain,1.5\r\n');
    expect(csvLine(['O\'Neil "embed" [v2]; DELETE FROM t; --', 'a,b', 'line\nbreak'])).toBe('"O\'Neil ""embed"" [v2]; DELETE FROM t; --","a,b","line\nbreak"\r\n');
    expect(csvLine(['=HYPERLINK("x")', '-1', null])).toBe('"\'=HYPERLINK(""x"")",\'-1,\r\n');
  });
});

describe('errors in words', () => {
  it('tells a file that is not SQLite from a SQLite file with a damaged page', () => {
    const error = new MonitorError('NOT_A_DATABASE', 'Not a SQLite database, or a corrupt one: file is not a database.');
    expect(toUserError(error, 'other').kind).toBe('not-a-database');
    expect(toUserError(error, 'sqlite').kind).toBe('corrupt');
    expect(toUserError(new MonitorError('NOT_A_DATABASE', 'database disk image is malformed'), 'unknown').kind).toBe('corrupt');
  });

  it('says the file belongs to another application, and names the model of a refused what-if setting', () => {
    expect(toUserError(new MonitorError('NOT_A_MONITOR_DB', 'no monitor tables')).title).toMatch(/not a monitoring database/);
    const invalid = toUserError(new MonitorError('INVALID_INPUT', 'Invalid tier', { model: 'qwen' }));
    expect(invalid).toMatchObject({ kind: 'invalid-input', model: 'qwen' });
  });

  it('states the size limit', () => {
    expect(tooLarge(2 * 1024 ** 3).message).toMatch(/2\.0 GiB.*up to 1\.0 GiB/);
  });
});
