import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelBilling } from '@llm-monitor/core';
import { openMonitor } from '@llm-monitor/driver-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixture, expectUsageError, expectUserError, removeDir, requireBuiltBin, runBin, sha256, tempDir } from './cli-harness.js';

let dir: string;
let counter = 0;
const LLAMA = 'Llama-3.3-70B-Instruct-Q4_K_M';
const DEEPSEEK = '深度求索-DeepSeek-V3-本地部署';
const ONEIL = `O'Neil "embed" [v2]; DELETE FROM t; --`;

beforeAll(() => {
  requireBuiltBin();
  dir = tempDir('pricing');
});
afterAll(() => removeDir(dir));

/** A fresh copy of the S1 fixture for one test. */
const seedCopy = () => copyFixture('seed-v1-dev', dir, `seed-${++counter}.db`);

async function billingOf(file: string, model: string): Promise<ModelBilling | null> {
  const monitor = await openMonitor(file, { readOnly: true });
  try {
    return await monitor.getModelBilling(model);
  } finally {
    await monitor.close();
  }
}

function writeJson(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
}

const TIERS = [
  { tierIndex: 1, startTokens: 0, endTokens: 32768, inputPricePerMillion: 2, outputPricePerMillion: 8, supportCache: true, cacheHitPricePerMillion: 0.5 },
  { tierIndex: 2, startTokens: 32769, endTokens: 131072, inputPricePerMillion: 4, outputPricePerMillion: 16, supportCache: true, cacheHitPricePerMillion: 1 },
  { tierIndex: 3, startTokens: 131073, endTokens: -1, inputPricePerMillion: 6, outputPricePerMillion: 24, supportCache: false, cacheHitPricePerMillion: 0 },
];

describe('pricing show', () => {
  it('prints getModelBilling() as JSON, and a table of the tiers', async () => {
    for (const fixture of ['seed-v1-dev', 'normalized-v2-dev'] as const) {
      const file = copyFixture(fixture, dir, `show-${fixture}.db`);
      const result = await runBin(['pricing', 'show', LLAMA, '--db', file, '--format', 'json']);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual(JSON.parse(JSON.stringify(await billingOf(file, LLAMA))));
    }
    const table = await runBin(['pricing', 'show', DEEPSEEK, '--db', copyFixture('seed-v1-dev', dir, 'show-2.db')]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('is billed by the hour: 7.25 per hour of runtime');
    const windows = await runBin(['pricing', 'show', LLAMA, '--db', copyFixture('normalized-v2-dev', dir, 'show-3.db')]);
    expect(windows.stdout).toContain('2-D windows');
    expect(windows.stdout).toContain('> 32,000 – 128,000');
  });

  it('an unknown model is exit 1 naming it', async () => {
    expectUserError(await runBin(['pricing', 'show', 'no-such-model', '--db', seedCopy()]), '"no-such-model"');
  });
});

describe('pricing set-tiers', () => {
  it('replaces every tier atomically with those of the file', async () => {
    const file = seedCopy();
    const tiers = writeJson('tiers.json', TIERS);
    const result = await runBin(['pricing', 'set-tiers', LLAMA, tiers, '--db', file]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Replaced the tiers of');
    expect(result.stdout).toContain('131,073 – ∞');
    const billing = await billingOf(file, LLAMA);
    expect(billing?.tierPricing).toEqual(TIERS);
    // the other models are untouched
    expect((await billingOf(file, ONEIL))?.tierPricing).toHaveLength(1);
    // fewer tiers than before: the extra ones are gone
    await runBin(['pricing', 'set-tiers', LLAMA, writeJson('one.json', [{ ...TIERS[0], endTokens: -1 }]), '--db', file]);
    expect((await billingOf(file, LLAMA))?.tierPricing).toEqual([{ ...TIERS[0], endTokens: -1 }]);
  });

  it('reads the tiers from standard input with -', async () => {
    const file = seedCopy();
    const result = await runBin(['pricing', 'set-tiers', ONEIL, '-', '--db', file], { input: JSON.stringify(TIERS) });
    expect(result.code, result.stderr).toBe(0);
    expect((await billingOf(file, ONEIL))?.tierPricing).toEqual(TIERS);
  });

  it('refuses overlaps, gaps (unless --allow-gaps) and malformed tiers, writing nothing', async () => {
    const file = seedCopy();
    const before = sha256(file);
    const cases: [unknown, string][] = [
      [[TIERS[0], { ...TIERS[1], startTokens: 30000 }, TIERS[2]], 'tiers 1 and 2 overlap from 30000 input tokens'],
      [[TIERS[0], { ...TIERS[1], startTokens: 40000 }, TIERS[2]], 'no tier covers 32769–39999 input tokens'],
      [[{ ...TIERS[0], startTokens: 100 }, TIERS[1], TIERS[2]], 'no tier covers 0–99 input tokens'],
      [[TIERS[0], TIERS[1]], 'no tier covers more than 131072 input tokens'],
      [[TIERS[0], { ...TIERS[1], tierIndex: 1 }, TIERS[2]], 'tier #2 tierIndex: Tier index 1 is used twice'],
      [[TIERS[0], { ...TIERS[1], endTokens: 100 }, TIERS[2]], 'tier #2 endTokens: The last input token count (100) is below the first (32769)'],
      [[{ ...TIERS[0], inputPricePerMillion: -2 }], 'tier #1 inputPricePerMillion: The input price per million tokens must be a finite number >= 0; got -2'],
      [[{ ...TIERS[0], inputPrice: 2 }], 'Unknown field "inputPrice"'],
      [{ tiers: TIERS }, 'must be a JSON array of tiers'],
      [[], 'there are no tiers'],
      ['[{"tierIndex": 1,', 'is not valid JSON'],
    ];
    for (const [content, message] of cases) {
      const tiers = writeJson('bad-tiers.json', content);
      expectUserError(await runBin(['pricing', 'set-tiers', LLAMA, tiers, '--db', file]), 'bad-tiers.json', message);
    }
    expectUserError(await runBin(['pricing', 'set-tiers', LLAMA, join(dir, 'missing-tiers.json'), '--db', file]), 'missing-tiers.json: the file does not exist');
    expectUserError(await runBin(['pricing', 'set-tiers', 'no-such-model', writeJson('ok.json', TIERS), '--db', file]), 'unknown model "no-such-model"');
    expect(sha256(file)).toBe(before);

    const gaps = writeJson('gaps.json', [TIERS[0], { ...TIERS[1], startTokens: 40000 }]);
    const allowed = await runBin(['pricing', 'set-tiers', LLAMA, gaps, '--db', file, '--allow-gaps']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain('no tier covers 32769–39999 input tokens');
    expect((await billingOf(file, LLAMA))?.tierPricing.map((t) => t.startTokens)).toEqual([0, 40000]);
  });

  it('refuses layouts llm-monitor cannot write (S6), leaving the file as it was', async () => {
    const file = copyFixture('normalized-v2-dev', dir, `s6-${++counter}.db`);
    const before = sha256(file);
    expectUserError(await runBin(['pricing', 'set-tiers', LLAMA, writeJson('ok.json', TIERS), '--db', file]), 'layout S6', 'cannot write');
    expectUserError(await runBin(['pricing', 'set-method', LLAMA, 'hourly', '--db', file]), 'layout S6');
    expect(sha256(file)).toBe(before);
  });
});

describe('pricing set-method and set-hourly', () => {
  it('switch the billing method and set the hourly price', async () => {
    const file = seedCopy();
    const hourly = await runBin(['pricing', 'set-method', LLAMA, 'hourly', '--db', file]);
    expect(hourly.code, hourly.stderr).toBe(0);
    expect(hourly.stdout).toContain(`${LLAMA} is now billed by the hour`);
    expect(hourly.stdout).toContain('pricing set-hourly');
    const price = await runBin(['pricing', 'set-hourly', LLAMA, '3.125', '--db', file]);
    expect(price.code, price.stderr).toBe(0);
    expect(price.stdout).toContain('hourly price 3.125 (was 0)');
    expect(await billingOf(file, LLAMA)).toMatchObject({ useTierPricing: false, hourlyPrice: 3.125 });
    const tier = await runBin(['pricing', 'set-method', DEEPSEEK, 'tier', '--db', file]);
    expect(tier.code).toBe(0);
    expect(await billingOf(file, DEEPSEEK)).toMatchObject({ useTierPricing: true, hourlyPrice: 7.25 });
    const note = await runBin(['pricing', 'set-hourly', DEEPSEEK, '8', '--db', file]);
    expect(note.stdout).toContain('counts once you run `llm-monitor pricing set-method');
  });

  it('bad arguments are usage errors; unknown models and missing files are exit 1 and create nothing', async () => {
    const file = seedCopy();
    const before = sha256(file);
    expectUsageError(await runBin(['pricing', 'set-method', LLAMA, 'weekly', '--db', file]), 'Allowed choices are tier, hourly');
    expectUsageError(await runBin(['pricing', 'set-hourly', LLAMA, 'abc', '--db', file]), 'expected a number >= 0');
    expectUsageError(await runBin(['pricing', 'set-hourly', LLAMA, '--db', file]));
    expectUserError(await runBin(['pricing', 'set-hourly', 'no-such-model', '2', '--db', file]), 'unknown model "no-such-model"');
    expect(sha256(file)).toBe(before);
    const missing = join(dir, 'nowhere', 'monitoring.db');
    for (const args of [
      ['set-method', LLAMA, 'tier'],
      ['set-hourly', LLAMA, '1'],
      ['set-tiers', LLAMA, writeJson('ok.json', TIERS)],
      ['import', writeJson('import.json', { [LLAMA]: { hourlyPrice: 1 } })],
    ])
      expectUserError(await runBin(['pricing', ...args, '--db', missing]), `no database at ${missing}`);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
  });
});

describe('pricing export and import', () => {
  it('round-trips the settings of every model into another database', async () => {
    const source = seedCopy();
    await runBin(['pricing', 'set-tiers', LLAMA, writeJson('t.json', TIERS), '--db', source]);
    await runBin(['pricing', 'set-tiers', ONEIL, writeJson('t.json', TIERS), '--db', source]);
    await runBin(['pricing', 'set-tiers', DEEPSEEK, writeJson('t.json', TIERS.slice(0, 1).map((t) => ({ ...t, endTokens: -1 }))), '--db', source]);
    await runBin(['pricing', 'set-hourly', DEEPSEEK, '9.5', '--db', source]);
    const exported = join(dir, 'pricing.json');
    const result = await runBin(['pricing', 'export', exported, '--db', source]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`Wrote the billing settings of 3 models to ${exported}.\n`);
    const content = JSON.parse(readFileSync(exported, 'utf8')) as Record<string, ModelBilling>;
    expect(Object.keys(content)).toEqual([LLAMA, DEEPSEEK, ONEIL]);
    for (const model of Object.keys(content)) expect(content[model]).toEqual(await billingOf(source, model));
    expectUserError(await runBin(['pricing', 'export', exported, '--db', source]), 'already exists (add --force');

    const target = seedCopy();
    const imported = await runBin(['pricing', 'import', exported, '--db', target]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('Imported the pricing of 3 models');
    for (const model of Object.keys(content)) expect(await billingOf(target, model)).toEqual(content[model]);
  });

  it('checks everything before writing: one bad model or an unknown one leaves the file as it was', async () => {
    const target = seedCopy();
    const before = sha256(target);
    const good = { useTierPricing: false, hourlyPrice: 4 };
    expectUserError(
      await runBin(['pricing', 'import', writeJson('p1.json', { [DEEPSEEK]: good, [LLAMA]: { tierPricing: [TIERS[0], { ...TIERS[1], startTokens: 100 }] } }), '--db', target]),
      `model "${LLAMA}" tierPricing: tiers 1 and 2 overlap`,
    );
    expectUserError(await runBin(['pricing', 'import', writeJson('p2.json', { [DEEPSEEK]: good, 'new-model': good }), '--db', target]), 'unknown model "new-model"');
    expectUserError(await runBin(['pricing', 'import', writeJson('p3.json', { [DEEPSEEK]: { hourlyPrice: 'cheap' } }), '--db', target]), 'hourlyPrice: The hourly price must be a finite number >= 0; got "cheap"');
    expectUserError(await runBin(['pricing', 'import', writeJson('p4.json', [good]), '--db', target]), 'must be a JSON object keyed by model name');
    expectUserError(await runBin(['pricing', 'import', writeJson('p5.json', { [DEEPSEEK]: { ...good, price: 1 } }), '--db', target]), 'price: Unknown field "price"');
    const s6 = copyFixture('normalized-v2-dev', dir, `s6-${++counter}.db`);
    const windows = join(dir, 'windows.json');
    await runBin(['pricing', 'export', windows, '--db', s6]);
    expectUserError(await runBin(['pricing', 'import', windows, '--db', target]), 'tierWindows');
    expect(sha256(target)).toBe(before);

    const registered = await runBin(['pricing', 'import', '-', '--db', target, '--register'], { input: JSON.stringify({ 'new-model': good, [DEEPSEEK]: { hourlyPrice: 11 } }) });
    expect(registered.code, registered.stderr).toBe(0);
    expect(registered.stdout).toContain('new-model (registered): billed hourly, hourly price 4');
    expect(await billingOf(target, 'new-model')).toMatchObject(good);
    expect(await billingOf(target, DEEPSEEK)).toMatchObject({ useTierPricing: false, hourlyPrice: 11 });
  });
});
