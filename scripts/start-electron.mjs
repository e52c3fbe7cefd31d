#!/usr/bin/env node
// `npm start`: opens the desktop studio (Electron). Where Electron cannot open a window (its binary
// was never downloaded, or there is no display) it says why in one line and starts the same studio
// in serve mode instead (dist-main/serve.cjs: loopback only, with a token), prints the address and
// opens it in the default browser where the machine has one. So `npm install && npm start` always
// ends with a working studio. BROWSER=none keeps the browser closed (as in other dev tools).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const args = process.argv.slice(2);

/** Why Electron cannot open a window here, or undefined when it can. */
export function whyNoWindow(env = process.env, platform = process.platform) {
  let binary;
  try {
    binary = require('electron'); // the path of the binary, or throws when it was never downloaded
  } catch {
    binary = undefined;
  }
  if (typeof binary !== 'string' || !fs.existsSync(binary)) {
    return {
      reason:
        "Electron's binary is not installed (it could not be downloaded, or ELECTRON_SKIP_BINARY_DOWNLOAD was set)",
    };
  }
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY)
    return { reason: 'there is no display (DISPLAY and WAYLAND_DISPLAY are not set)', binary };
  return { binary, reason: undefined };
}

/** The command that opens `url` in the default browser, or undefined where there is none to open. */
export function browserCommand(url, env = process.env, platform = process.platform) {
  if (env.BROWSER === 'none') return undefined;
  if (platform === 'darwin') return ['open', [url]];
  if (platform === 'win32') return ['cmd', ['/c', 'start', '""', url]];
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return undefined; // a headless box: the address is printed, someone opens it elsewhere
  const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
  if (env.BROWSER && has(env.BROWSER)) return [env.BROWSER, [url]];
  return has('xdg-open') ? ['xdg-open', [url]] : undefined;
}

function startServeMode(reason) {
  console.log(
    `Autoencoder Studio cannot open a desktop window: ${reason}; starting it in your browser instead (serve mode).`,
  );
  const serve = spawn(process.execPath, [path.join(root, 'dist-main', 'serve.cjs'), ...args], {
    stdio: ['inherit', 'pipe', 'inherit'],
  });
  let opened = false;
  let buffered = '';
  serve.stdout.setEncoding('utf8');
  serve.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    if (opened) return;
    buffered += chunk;
    const m = /Open: (http:\/\/\S+)/.exec(buffered);
    if (!m) return;
    opened = true;
    const cmd = browserCommand(m[1]);
    if (!cmd) {
      console.log('Open that address in a browser (Ctrl-C stops the studio).');
      return;
    }
    const b = spawn(cmd[0], cmd[1], { stdio: 'ignore', detached: true });
    b.on('error', () => console.log('Could not open a browser; open that address yourself (Ctrl-C stops the studio).'));
    b.unref();
  });
  // Ctrl-C reaches serve through the terminal's process group; a signal sent only to this script is passed on.
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => serve.kill(sig));
  serve.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { binary, reason } = whyNoWindow();
  if (reason) startServeMode(reason);
  else {
    const child = spawn(binary, [root, ...args], { stdio: 'inherit' });
    child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
  }
}
