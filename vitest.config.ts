import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', 'runs/**', '.tools/**', '**/*.e2e.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Real PostgreSQL, HAProxy and k6 share two cores; parallel files would measure each other.
    fileParallelism: false,
  },
});
