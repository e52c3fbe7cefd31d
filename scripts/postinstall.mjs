#!/usr/bin/env node
// Runs after `npm install` / `npm ci` (package.json "postinstall").
//  1. Provisions tfjs-node's native backend on TensorFlow 2.21.0 (scripts/provision-tfjs.mjs):
//     required, fails the install with a clear message when it cannot.
//  2. Provisions Chromium for the end-to-end tests (scripts/provision-chromium.mjs): Debian's package
//     where the machine allows it, else a clear message. Never fails the install.
//  3. Fetches Electron's binary (electron's own install.js, which package.json's allowScripts denies so
//     that its failure cannot break the install). Optional: where it cannot be downloaded, the studio
//     still runs in a browser with `npm run serve`. Skipped with ELECTRON_SKIP_BINARY_DOWNLOAD=1.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const tf = spawnSync(process.execPath, [path.join(root, 'scripts', 'provision-tfjs.mjs')], {
  stdio: 'inherit',
  cwd: root,
});
if (tf.status !== 0) process.exit(tf.status ?? 1);

spawnSync(process.execPath, [path.join(root, 'scripts', 'provision-chromium.mjs')], { stdio: 'inherit', cwd: root });

const electronInstall = path.join(root, 'node_modules', 'electron', 'install.js');
if (!fs.existsSync(electronInstall)) process.exit(0);
if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
  console.log(
    '[postinstall] Electron binary download skipped (ELECTRON_SKIP_BINARY_DOWNLOAD). `npm start` needs it; `npm run serve` does not.',
  );
  process.exit(0);
}
console.log('[postinstall] fetching the Electron binary ...');
const el = spawnSync(process.execPath, [electronInstall], {
  cwd: path.dirname(electronInstall),
  encoding: 'utf8',
  timeout: 10 * 60_000,
});
if (el.status === 0) {
  console.log('[postinstall] Electron binary ready.');
} else {
  const why = `${el.stderr || ''}${el.stdout || ''}`.match(
    /(ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|getaddrinfo|RequestError)[^\n]*/,
  );
  console.warn(
    `[postinstall] Electron's binary could not be downloaded${why ? ` (${why[0].trim()})` : ''}.\n` +
      '[postinstall] The desktop window (`npm start`) needs it; the studio itself works in your browser: `npm run serve`.',
  );
}
