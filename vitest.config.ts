import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: { '@contract': fileURLToPath(new URL('./src-main/contract/index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    // Renderer component tests opt into happy-dom with a `// @vitest-environment happy-dom` line.
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // tfjs-node is a native addon: run test files in forked processes, not worker threads.
    pool: 'forks',
    // TensorFlow's C++ start-up chatter (oneDNN notices) hides test output.
    // Every host answer is also checked against its call's response schema (host/dispatch.ts), and
    // the graph step replays its JavaScript every step to check its feed plan (engine/fast/graph.ts).
    env: { TF_CPP_MIN_LOG_LEVEL: '2', AE_CHECK_RESPONSES: '1', AE_CHECK_GRAPH_REPLAY: '1' },
  },
});
