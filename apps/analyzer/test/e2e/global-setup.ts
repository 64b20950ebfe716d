import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';
import { APP_DIR, DIST, requireChromium } from './paths.js';

/** Newest modification time under the given paths. */
function newest(paths: string[]): number {
  let latest = 0;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const stat = statSync(path);
    if (stat.isDirectory()) latest = Math.max(latest, newest(readdirSync(path).map((name) => join(path, name))));
    else latest = Math.max(latest, stat.mtimeMs);
  }
  return latest;
}

/**
 * Fails at once, with the command to fix it, when Chromium is missing; builds the app when `dist/` is
 * missing or older than its sources (turbo's `test` already depends on `build`).
 */
export default async function setup(): Promise<void> {
  requireChromium();
  const index = join(DIST, 'index.html');
  const sources = newest(['src', 'index.html', 'vite.config.ts', 'package.json'].map((p) => join(APP_DIR, p)));
  if (!existsSync(index) || statSync(index).mtimeMs < sources) {
    console.log('analyzer: building the app for the browser tests');
    await build({ root: APP_DIR, logLevel: 'warn' });
  }
}
