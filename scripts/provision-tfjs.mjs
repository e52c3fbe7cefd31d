#!/usr/bin/env node
// Provisions @tensorflow/tfjs-node's NATIVE backend (issue #2, DESIGN.md §3).
//
//   1. Already working?            -> print the backend and stop (idempotent; ~1 s).
//   2. Official route:              tfjs-node's own scripts/install.js (downloads libtensorflow and a
//                                   prebuilt addon from Google storage; users with internet get this).
//   3. Offline route (fallback):    libtensorflow_cc.so.2 / libtensorflow_framework.so.2 and the C headers
//                                   are taken from a TensorFlow CPU pip wheel (local pip index), put
//                                   into tfjs-node's deps/ with the names its binding expects, and
//                                   the binding is compiled with node-gyp against the local Node headers.
//   4. Neither works -> a clear message and a non-zero exit. We never fall back to the pure-JS backend.
//
// Environment knobs: AE_TF_WHEEL (path to a tensorflow-cpu wheel), AE_TF_WHEEL_SPEC (pip requirement,
// default tensorflow-cpu==2.21.0), AE_SKIP_OFFICIAL_TFJS=1 (go straight to the offline route),
// AE_CACHE_DIR (where the wheel is kept; default ~/.cache/ae-studio).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const log = (msg) => console.log(`[provision-tfjs] ${msg}`);

let tfjsDir;
try {
  tfjsDir = path.dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
} catch {
  fail('@tensorflow/tfjs-node is not installed. Run `npm install` first.');
}
const depsDir = path.join(tfjsDir, 'deps');
const checkScript = path.join(root, 'scripts', 'check-backend.cjs');

/** Loads tfjs-node in a fresh process; returns the parsed backend info or null. */
function probe() {
  const r = spawnSync(process.execPath, [checkScript, '--json'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) return { ok: false, error: (r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ') };
  try {
    return { ok: true, info: JSON.parse(r.stdout.trim().split('\n').pop()) };
  } catch {
    return { ok: false, error: r.stdout };
  }
}

function fail(msg) {
  console.error(`\n[provision-tfjs] ERROR: ${msg}\n`);
  process.exit(1);
}

function report(info, route) {
  log(`native backend ready via ${route}: backend=${info.backend} tensorflow=${info.tfVersion} threads=${info.threads}`);
}

/** Runs tfjs-node's install.js with node-gyp reachable and local Node headers. */
function runTfjsInstall(extraEnv = {}) {
  const npmGypDir = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'node-gyp-bin');
  const env = {
    ...process.env,
    PATH: [path.join(root, 'node_modules', '.bin'), npmGypDir, process.env.PATH].join(path.delimiter),
    ...extraEnv,
  };
  return spawnSync(process.execPath, [path.join(tfjsDir, 'scripts', 'install.js')], {
    cwd: tfjsDir,
    env,
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
}

function localNodeHeaders() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  return undefined;
}

/** The local pip index that `pip config list` names (as ../shared/anchors/run-peers.sh does). */
function localPipIndex() {
  const r = spawnSync('pip', ['config', 'list'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const m = /extra-index-url='([^ ']+)/.exec(r.stdout) || /index-url='([^ ']+)/.exec(r.stdout);
  return m ? m[1] : undefined;
}

function findOrDownloadWheel() {
  if (process.env.AE_TF_WHEEL) {
    if (!fs.existsSync(process.env.AE_TF_WHEEL)) fail(`AE_TF_WHEEL=${process.env.AE_TF_WHEEL} does not exist.`);
    return process.env.AE_TF_WHEEL;
  }
  const cache = path.join(process.env.AE_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'ae-studio'), 'wheels');
  fs.mkdirSync(cache, { recursive: true });
  const existing = () => fs.readdirSync(cache).find((f) => /^tensorflow_cpu-.*\.whl$/.test(f));
  if (existing()) return path.join(cache, existing());
  const spec = process.env.AE_TF_WHEEL_SPEC || 'tensorflow-cpu==2.21.0';
  const index = process.env.PIP_INDEX_URL || localPipIndex();
  log(`downloading ${spec} wheel with pip${index ? ` from ${index}` : ''} (about 270 MB) ...`);
  const pip = spawnSync('python3', ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', spec, '-d', cache], {
    stdio: 'inherit',
    env: { ...process.env, ...(index ? { PIP_INDEX_URL: index } : {}) },
    timeout: 20 * 60_000,
  });
  if (pip.status !== 0 || !existing()) {
    fail(
      `could not obtain a TensorFlow CPU wheel with pip (${spec}).\n` +
        'Neither the official tfjs-node download nor the offline route worked.\n' +
        'Fix one of: internet access to storage.googleapis.com, a pip index that serves tensorflow-cpu, ' +
        'or set AE_TF_WHEEL=/path/to/tensorflow_cpu-*.whl and run `npm run provision`.',
    );
  }
  return path.join(cache, existing());
}

/** Extracts the two shared libraries and the include tree from the wheel into tfjs-node's deps/. */
function stageFromWheel(wheel) {
  log(`staging libtensorflow from ${path.basename(wheel)} ...`);
  const staging = `${depsDir}.staging-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  const py = `
import sys, zipfile, os, shutil
wheel, out = sys.argv[1], sys.argv[2]
want_libs = {'tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'}
found = set()
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        n = info.filename
        if n in want_libs:
            dest = os.path.join(out, 'lib', os.path.basename(n)); found.add(n)
        elif n.startswith('tensorflow/include/') and not n.endswith('/'):
            dest = os.path.join(out, 'include', n[len('tensorflow/include/'):])
        else:
            continue
        if '..' in n.split('/'): raise SystemExit('unsafe path in wheel: ' + n)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, 'wb') as dst: shutil.copyfileobj(src, dst, 1 << 20)
missing = want_libs - found
if missing: raise SystemExit('wheel lacks ' + ', '.join(sorted(missing)))
`;
  const r = spawnSync('python3', ['-c', py, wheel, staging], { stdio: 'inherit' });
  if (r.status !== 0) {
    fs.rmSync(staging, { recursive: true, force: true });
    fail(`could not extract libtensorflow from ${wheel}.`);
  }
  const lib = path.join(staging, 'lib');
  // The names tfjs-node's binding.gyp and deps-constants.js expect, pointing at the real files.
  const links = {
    'libtensorflow.so': 'libtensorflow_cc.so.2',
    'libtensorflow.so.2.9.1': 'libtensorflow_cc.so.2',
    'libtensorflow_framework.so': 'libtensorflow_framework.so.2',
    'libtensorflow_framework.so.2.9.1': 'libtensorflow_framework.so.2',
  };
  for (const [name, target] of Object.entries(links)) fs.symlinkSync(target, path.join(lib, name));
  // Swap in atomically: a half-extracted deps/ must never look complete to install.js.
  fs.rmSync(depsDir, { recursive: true, force: true });
  fs.renameSync(staging, depsDir);
}

function main() {
  if (os.platform() !== 'linux' && process.env.AE_SKIP_OFFICIAL_TFJS) {
    log('the offline route is implemented for Linux only; trying the official route anyway.');
  }
  const first = probe();
  if (first.ok && first.info.backend === 'tensorflow') return report(first.info, 'existing install');

  if (!process.env.AE_SKIP_OFFICIAL_TFJS) {
    log('trying the official tfjs-node install (downloads libtensorflow from Google storage) ...');
    const r = runTfjsInstall();
    const after = r.status === 0 ? probe() : { ok: false };
    if (after.ok && after.info.backend === 'tensorflow') return report(after.info, 'official download');
    const why = `${r.stderr || ''}${r.stdout || ''}`.match(/(ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|getaddrinfo)[^\n]*/);
    log(`official route did not work${why ? ` (${why[0].trim()})` : ''}; using the offline route.`);
  }
  if (os.platform() !== 'linux') {
    fail(`the offline route supports Linux only; on ${os.platform()} tfjs-node needs internet access at install time.`);
  }

  const wheel = findOrDownloadWheel();
  stageFromWheel(wheel);
  const nodedir = localNodeHeaders();
  if (!nodedir) fail('Node.js headers (include/node/node_api.h) were not found; set npm_config_nodedir to your Node prefix.');
  log(`compiling the tfjs-node binding with node-gyp (nodedir=${nodedir}) ...`);
  const r = runTfjsInstall({ npm_config_nodedir: nodedir });
  const after = probe();
  if (after.ok && after.info.backend === 'tensorflow') return report(after.info, 'offline route (pip wheel + node-gyp)');
  console.error(r.stdout, r.stderr);
  fail(`tfjs-node's native binding still does not load: ${after.error || 'unknown error'}`);
}

main();
