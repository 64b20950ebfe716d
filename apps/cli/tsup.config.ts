import { cpSync, existsSync, rmSync } from 'node:fs';
import { defineConfig } from 'tsup';

/** The built browser analyzer (apps/analyzer), bundled into dist/analyzer for `llm-monitor serve`. */
const ANALYZER_DIST = '../analyzer/dist';

export default defineConfig({
  entry: { index: 'src/index.ts', bin: 'src/bin.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  async onSuccess() {
    rmSync('dist/analyzer', { recursive: true, force: true });
    // optional: without a built analyzer, `serve` asks for --app DIR
    if (existsSync(`${ANALYZER_DIST}/index.html`)) cpSync(ANALYZER_DIST, 'dist/analyzer', { recursive: true });
  },
});
