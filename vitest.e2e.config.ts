import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    // The serve processes the tests start check every host answer against its call's response schema.
    env: { AE_CHECK_RESPONSES: '1' },
  },
});
