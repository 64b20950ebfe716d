import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The reference databases written by the original Python Monitor, and what its getters returned. */
export type FixtureName = 'seed-v1-dev' | 'normalized-v2-dev';

export function fixturePath(name: FixtureName, ext: 'db' | 'json'): string {
  return fileURLToPath(new URL(`../fixtures/${name}.${ext}`, import.meta.url));
}

export function fixtureBytes(name: FixtureName): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(name, 'db')));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function fixtureJson(name: FixtureName): any {
  return JSON.parse(readFileSync(fixturePath(name, 'json'), 'utf8'));
}

/** |a - b| <= 1e-9 on every number, exact equality elsewhere (Python prints 1e-05 where JS prints 0.00001). */
export function closeTo(actual: unknown, expected: unknown, path = '$'): string | null {
  if (typeof expected === 'number' && typeof actual === 'number')
    return Math.abs(actual - expected) <= 1e-9 ? null : `${path}: ${actual} != ${expected}`;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length)
      return `${path}: length ${Array.isArray(actual) ? actual.length : typeof actual} != ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const problem = closeTo(actual[i], expected[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return null;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return `${path}: ${JSON.stringify(actual)} is not an object`;
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    for (const key of keys) {
      const problem = closeTo((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${path}.${key}`);
      if (problem) return problem;
    }
    return null;
  }
  return Object.is(actual, expected) ? null : `${path}: ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`;
}
