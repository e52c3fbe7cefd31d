#!/usr/bin/env node
// Provisions the browser the end-to-end tests drive (run by postinstall, like the TensorFlow library):
//
//   1. A Chromium is already there (CHROMIUM_PATH, or `chromium` / `chromium-browser` on PATH)
//      -> print it and stop.
//   2. A Debian/Ubuntu machine where we may install packages (root, or sudo without a password)
//      -> `apt-get install chromium` (Debian's own build; Playwright's browser download does not
//      work on offline machines, and the tests use playwright-core with this binary).
//   3. Otherwise -> say plainly what to install; the install itself does not fail (the studio does not
//      need Chromium; only `npm run test:e2e` does, and it repeats this advice if the browser is missing).
//
// AE_SKIP_CHROMIUM=1 skips this step.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const log = (msg) => console.log(`[provision-chromium] ${msg}`);
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();

/** The Chromium binary the tests would use, or ''. */
export function findChromium(env = process.env) {
  if (env.CHROMIUM_PATH) return fs.existsSync(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : '';
  return has('chromium') || has('chromium-browser');
}

function version(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return (r.stdout || '').trim() || 'version unknown';
}

const ADVICE =
  "The end-to-end tests (`npm run test:e2e`, part of `npm test`) need Chromium: install Debian's package " +
  '(`sudo apt-get install chromium`), or point CHROMIUM_PATH at a Chromium or Chrome binary.';

function main() {
  if (process.env.AE_SKIP_CHROMIUM === '1') return log('skipped (AE_SKIP_CHROMIUM=1).');
  const found = findChromium();
  if (found) return log(`Chromium for the end-to-end tests: ${found} (${version(found)})`);
  if (process.env.CHROMIUM_PATH) return log(`CHROMIUM_PATH=${process.env.CHROMIUM_PATH} does not exist. ${ADVICE}`);
  if (process.platform !== 'linux' || !has('apt-get'))
    return log(`Chromium is not installed and this is not a machine with apt-get. ${ADVICE}`);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const sudo = !root && has('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  if (!root && !sudo)
    return log(`Chromium is not installed, and installing packages needs root (sudo asks for a password). ${ADVICE}`);
  const run = (args) => {
    const cmd = root ? args : ['sudo', '-n', ...args];
    return spawnSync(cmd[0], cmd.slice(1), {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 20 * 60_000,
    });
  };
  log("installing Debian's chromium for the end-to-end tests (apt-get; a few minutes) ...");
  let r = run(['apt-get', 'install', '-y', '-qq', 'chromium']);
  if (r.status !== 0) {
    // a fresh machine's package lists may be empty or stale
    run(['apt-get', 'update', '-qq']);
    r = run(['apt-get', 'install', '-y', '-qq', 'chromium']);
  }
  const now = findChromium();
  if (r.status === 0 && now) return log(`Chromium for the end-to-end tests: ${now} (${version(now)})`);
  const why = `${r.stderr || ''}${r.stdout || ''}`.trim().split('\n').filter(Boolean).slice(-2).join(' | ');
  log(`apt-get could not install chromium${why ? ` (${why})` : ''}. ${ADVICE}`);
}

main();
