import { defineConfig } from 'vitest/config';

// Long end-to-end suites (full autoscaling 3 -> 20 -> 3, failover under load...): `npm run test:e2e`.
export default defineConfig({
  test: {
    include: ['**/*.e2e.test.ts'],
    exclude: ['**/node_modules/**', 'runs/**', '.tools/**'],
    testTimeout: 900_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
