#!/usr/bin/env node
// Bundles the main-side entries with esbuild into dist-main/ (CommonJS, Node target).
// Every npm package stays external (required at run time from node_modules) so tfjs-node and
// other native modules are never bundled (a bundled native addon cannot find its binary); the sandboxed preload is the
// exception: it is one self-contained file that may only require 'electron'. The built-in
// datasets are converted into dist-main/builtin-data/ (scripts/build-datasets.mjs).
import { build } from 'esbuild';
import { buildDatasets } from './build-datasets.mjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  absWorkingDir: root,
  // import.meta.url has no meaning in CommonJS; give it this file's URL.
  banner: { js: "const __import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__import_meta_url' },
};

await Promise.all([
  build({
    ...common,
    entryPoints: { 'electron-main': 'src-main/electron/main.ts' },
    outdir: 'dist-main',
    outExtension: { '.js': '.cjs' },
    packages: 'external',
  }),
  build({
    ...common,
    entryPoints: { serve: 'src-main/serve/cli.ts', trainer: 'src-main/trainer/entry.ts' },
    outdir: 'dist-main',
    outExtension: { '.js': '.cjs' },
    packages: 'external',
  }),
  build({
    ...common,
    entryPoints: { cli: 'src-main/cli/main.ts' },
    outdir: 'dist-main',
    outExtension: { '.js': '.cjs' },
    packages: 'external',
    banner: { js: `#!/usr/bin/env node\n${common.banner.js}` },
  }),
  build({
    ...common,
    entryPoints: { preload: 'src-main/electron/preload.ts' },
    outdir: 'dist-main',
    outExtension: { '.js': '.cjs' },
    external: ['electron'],
    platform: 'browser',
    banner: {},
    define: {},
  }),
]);
const made = buildDatasets(path.join(root, 'dist-main', 'builtin-data'));
console.log(
  `built dist-main/ (electron-main.cjs, preload.cjs, serve.cjs, trainer.cjs, cli.cjs${made.length ? `; builtin-data/: ${made.join(', ')}` : ''})`,
);
