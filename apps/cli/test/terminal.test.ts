import { join } from 'node:path';
import { openMonitor } from '@llm-monitor/driver-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, requireBuiltBin, runBin, tempDir } from './cli-harness.js';

/**
 * Model names come from whoever sends requests through the proxy. Printed to a terminal they must not
 * clear the screen, set the title, rewrite lines or flood it; JSON and CSV keep them exactly.
 */

const HOSTILE = '\u001b[2J\u001b]0;pwned\u0007evil\r\nfake line\u202eesrever';
const HUGE = 'x'.repeat(1_000_000);
const NAMES = [HOSTILE, HUGE, '__proto__', 'constructor'];
let dir: string;
let db: string;

beforeAll(async () => {
  requireBuiltBin();
  dir = tempDir('terminal');
  db = join(dir, 'names.db');
  const monitor = await openMonitor(db, { models: NAMES });
  for (const [i, name] of NAMES.entries()) await monitor.addModelRequest(name, [1_710_000_000 + i, 10 + i, 1]);
  await monitor.close();
});
afterAll(() => removeDir(dir));

describe('names from the database on a terminal', () => {
  for (const args of [['models'], ['report'], ['report', '--by', 'day']]) {
    it(`\`${args.join(' ')}\` escapes control characters and bounds the width of what it prints`, async () => {
      const result = await runBin([...args, '--db', db, '--tz', 'UTC']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      expect(result.stdout).toContain('\\u001b[2J\\u001b]0;pwned\\u0007evil\\u000d\\u000afake line'); // cut at 60 columns
      expect(result.stdout.length).toBeLessThan(20_000);
      // each table stays aligned: the escapes and cuts happen before the columns are measured
      for (const table of result.stdout.split('\n\n').filter((block) => block.includes('┌'))) {
        const widths = table.split('\n').filter((line) => /^[┌│├└]/.test(line)).map((line) => line.length);
        expect(new Set(widths).size).toBe(1);
      }
      for (const name of ['__proto__', 'constructor']) expect(result.stdout).toContain(name);
    });
  }

  it('keeps every name exactly in JSON and CSV', async () => {
    const json = await runBin(['report', '--db', db, '--format', 'json']);
    expect((JSON.parse(json.stdout) as { models: { name: string }[] }).models.map((m) => m.name)).toEqual(NAMES);
    const models = await runBin(['models', '--db', db, '--format', 'json']);
    expect((JSON.parse(models.stdout) as { name: string }[]).map((m) => m.name)).toEqual(NAMES);
    const csv = await runBin(['report', '--db', db, '--format', 'csv']);
    expect(csv.stdout).toContain(`"${HOSTILE}"`);
    expect(csv.stdout).toContain(HUGE);
  });
});
