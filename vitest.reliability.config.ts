// `npm run test:reliability`: faults, hostile input and security checks. Each test
// records what it tried and what survived (test/reliability/record.ts); the reporter prints the
// table at the end.
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  resolve: {
    alias: { '@contract': fileURLToPath(new URL('./src-main/contract/index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/reliability/**/*.rel.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // tfjs-node is a native addon: forked processes, not worker threads.
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/reliability/global-setup.ts'],
    reporters: ['default', './test/reliability/reporter.ts'],
    // Every host answer is also checked against its call's response schema (host/dispatch.ts), and
    // the graph step replays its JavaScript every step to check its feed plan (engine/fast/graph.ts).
    env: { TF_CPP_MIN_LOG_LEVEL: '2', AE_CHECK_RESPONSES: '1', AE_CHECK_GRAPH_REPLAY: '1' },
  },
});
