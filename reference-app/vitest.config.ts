// The service's tests on their own: `npx vitest run --root reference-app` (vitest comes from the
// repository). Real PostgreSQL servers and child processes share two cores, so files run one at a time.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
