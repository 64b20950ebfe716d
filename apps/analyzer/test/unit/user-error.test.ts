import { MonitorError } from '@llm-monitor/core';
import { describe, expect, it } from 'vitest';
import { toUserError, tooLarge } from '../../src/worker/user-error.js';

describe('errors in words', () => {
  it('tells a file that is not SQLite from a SQLite file with a damaged page', () => {
    const error = new MonitorError('NOT_A_DATABASE', 'Not a SQLite database, or a corrupt one: file is not a database.');
    expect(toUserError(error, 'other').kind).toBe('not-a-database');
    expect(toUserError(error, 'sqlite').kind).toBe('corrupt');
    expect(toUserError(new MonitorError('NOT_A_DATABASE', 'database disk image is malformed'), 'unknown').kind).toBe('corrupt');
  });

  it('says the file belongs to another application, names the model of a refused what-if setting, states the size limit', () => {
    expect(toUserError(new MonitorError('NOT_A_MONITOR_DB', 'no monitor tables')).title).toMatch(/not a monitoring database/);
    expect(toUserError(new MonitorError('INVALID_INPUT', 'Invalid tier', { model: 'qwen' }))).toMatchObject({ kind: 'invalid-input', model: 'qwen' });
    expect(tooLarge(2 * 1024 ** 3).message).toMatch(/2\.0 GiB.*up to 1\.0 GiB/);
  });
});
