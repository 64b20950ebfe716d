import { defineConfig } from 'tsup';

export default defineConfig({
  // the cloud comparison is its own entry: only apps that import it load the price catalog
  entry: { index: 'src/index.ts', cloud: 'src/insights/cloud.ts' },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
