import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getSafeModelName, isMonitorError } from '../src/index.js';

const reference = (name: string) => `model_${createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 16)}`;

describe('getSafeModelName', () => {
  it('matches the examples of the manual and the fixtures', () => {
    expect(getSafeModelName('Qwen3-Coder-30B-A3B-Instruct-UD-64K')).toBe('model_13611871a86e4690');
    expect(getSafeModelName('')).toBe('model_e3b0c44298fc1c14');
    expect(getSafeModelName('深度求索-DeepSeek-V3-本地部署')).toBe('model_b4909960f8a3c9aa');
    expect(getSafeModelName(`O'Neil "embed" [v2]; DELETE FROM t; --`)).toBe('model_b7cfce7d7144ef21');
  });

  it('equals sha256 of the UTF-8 bytes for any well-formed string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (name) => {
        expect(getSafeModelName(name)).toBe(reference(name));
      }),
      { numRuns: 5000 },
    );
  });

  it("is byte-identical to Python's hashlib on awkward names", () => {
    const names = ['', 'a', '🦙', 'مرحبا', 'nul\u0000x', 'e\u0301', '\uFEFFbom', 'x'.repeat(10_000), "'; DROP TABLE t; --", '\u{10FFFF}'];
    const script =
      'import sys, json, hashlib\nfor n in json.load(sys.stdin): print("model_" + hashlib.sha256(n.encode("utf-8")).hexdigest()[:16])';
    let python: string;
    try {
      python = execFileSync('python3', ['-c', script], { input: JSON.stringify(names), encoding: 'utf8' });
    } catch {
      console.warn('python3 is not available: checked against node:crypto only');
      python = names.map(reference).join('\n') + '\n';
    }
    expect(names.map(getSafeModelName)).toEqual(python.trim().split('\n'));
  });

  it('refuses lone surrogates, which Python cannot encode either', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string(), (a, unit, b) => {
        const name = `${a}${String.fromCharCode(unit)}${b}`;
        if ((name as unknown as { isWellFormed(): boolean }).isWellFormed()) return;
        let error: unknown;
        try {
          getSafeModelName(name);
        } catch (e) {
          error = e;
        }
        expect(isMonitorError(error, 'INVALID_INPUT')).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
