import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Paths and the Chromium check, without vitest (the global setup imports this too). */

export const APP_DIR = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const DIST = join(APP_DIR, 'dist');
export const FIXTURES = join(APP_DIR, 'test', 'fixtures');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function requireChromium(): void {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the analyzer's browser tests need Debian's Chromium. Install it with \`apt-get install -y chromium\` (as root, after \`apt-get update\`), or set CHROMIUM_PATH.`,
    );
}

