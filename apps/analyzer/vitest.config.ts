import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // one Chromium at a time on a 2-core machine
    fileParallelism: false,
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // not part of `test`: `npm run bench` here, `npm run bench:analyzer` at the root
        test: { name: 'bench', include: ['bench/**/*.ts'], environment: 'node', globalSetup: ['test/e2e/global-setup.ts'], testTimeout: 900_000 },
      },
    ],
  },
});
