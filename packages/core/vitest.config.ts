import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // property tests run thousands of cases; CI runs every package's tests at once on two cores
    testTimeout: 60_000,
  },
});
