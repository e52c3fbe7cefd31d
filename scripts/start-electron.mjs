#!/usr/bin/env node
// `npm start`: launches the Electron studio, or explains plainly why it cannot (no Electron binary,
// no display) and points to serve mode, instead of failing with a stack trace.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));

function explain(reason) {
  console.error(`\nAutoencoder Studio cannot open its desktop window: ${reason}\n`);
  console.error('The same studio runs in your browser instead:\n\n    npm run serve\n\nthen open the http://127.0.0.1:…/?token=… address it prints.\n');
  process.exit(1);
}

let electronBinary;
try {
  electronBinary = require('electron'); // the path of the binary, or throws when it was never downloaded
} catch {
  electronBinary = undefined;
}
if (typeof electronBinary !== 'string' || !fs.existsSync(electronBinary)) {
  explain("Electron's binary is not installed (it could not be downloaded, or ELECTRON_SKIP_BINARY_DOWNLOAD was set).");
}
if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
  explain('there is no display (DISPLAY / WAYLAND_DISPLAY are not set).');
}
const child = spawn(electronBinary, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
