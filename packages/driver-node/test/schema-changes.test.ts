import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openMonitor } from '../src/index.js';
import { tempPath } from './harness.js';
import { originalInit } from './original.js';

/**
 * A Monitor lists the models from the tables it read last, and reads them all again only when SQLite's
 * schema version says something changed: what other programs change in the file between two lists must
 * show up in the second.
 */

const T0 = 1_710_000_000;

describe('tables other programs change between two lists', () => {
  it('a model another Monitor registered, and one the original created, are in the next list and report', async () => {
    const path = tempPath('schema-changes');
    const reader = await openMonitor(path, { models: ['first'] });
    expect((await reader.listModels()).map((m) => m.name)).toEqual(['first']);

    const writer = await openMonitor(path);
    await writer.addModelRequest('second', [T0, 100, 10]);
    await writer.close();
    expect((await reader.listModels()).map((m) => m.name)).toEqual(['first', 'second']);
    expect((await reader.summary()).models.find((m) => m.name === 'second')?.requests).toBe(1);

    // the original's statements, from another connection: a third model in the seed's own layout
    const db = new Database(path);
    originalInit(db, ['third']);
    db.close();
    const described = await reader.describe();
    expect(described.models.map((m) => m.name)).toEqual(['first', 'second', 'third']);
    expect(described.models.find((m) => m.name === 'third')!.shape).toBe('S1');
    await reader.close();
  });

  it('a table dropped by another program between two lists is missing in the second, not read from memory', async () => {
    const path = tempPath('schema-changes');
    const monitor = await openMonitor(path, { models: ['kept', 'broken'] });
    expect((await monitor.describe()).models.find((m) => m.name === 'broken')!.problems).toEqual(
      expect.not.arrayContaining([expect.stringContaining('is missing')]),
    );
    const db = new Database(path);
    const safe = String(db.prepare('SELECT safe_name FROM model_name_mapping WHERE original_name = ?').pluck().get('broken'));
    db.exec(`DROP TABLE "${safe}_tier_pricing"`);
    db.close();
    const broken = (await monitor.describe()).models.find((m) => m.name === 'broken')!;
    expect(broken.problems).toContain(`table ${safe}_tier_pricing is missing (the mapping row has no tables)`);
    await monitor.close();
  });
});
