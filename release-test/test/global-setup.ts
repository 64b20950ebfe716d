import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type Packed, packAll } from '../lib/pack.js';
import { publishedPackages } from '../lib/workspace.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Every published package, packed once for all test files (the built dist/ as turbo left it). */
    packed: Packed[];
  }
}

export default async function setup(project: TestProject) {
  const destination = mkdtempSync(join(tmpdir(), 'llm-monitor-packed-'));
  project.provide('packed', await packAll(publishedPackages(), destination));
  return () => rmSync(destination, { recursive: true, force: true });
}
