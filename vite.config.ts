// Builds the renderer (src-renderer) into dist-renderer/. Relative base so the same build loads
// from Electron's app:// protocol and from the serve-mode HTTP server.
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('./src-renderer', import.meta.url)),
  base: './',
  plugins: [vue()],
  resolve: {
    alias: { '@contract': fileURLToPath(new URL('./src-main/contract/index.ts', import.meta.url)) },
  },
  build: {
    outDir: fileURLToPath(new URL('./dist-renderer', import.meta.url)),
    emptyOutDir: true,
    // No inline scripts or styles: the CSP is script-src 'self'; style-src 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
