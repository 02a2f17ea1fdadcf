import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', 'runs/**', '.tools/**', '**/*.e2e.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Real Kubernetes, PostgreSQL and the load engine share two cores; parallel files would measure each other.
    fileParallelism: false,
  },
});
