import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    // the rehearsal installs from a local registry and runs the installed programs: minutes, not seconds
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // one file at a time: they install packages and spawn processes, on a machine with two cores
    fileParallelism: false,
  },
});
