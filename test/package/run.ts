// `npm run test:package`: packages the app for the OS it runs on with electron-builder
// `--dir`, then checks the packaged tree. Electron's own binary cannot be downloaded on our
// machines, so the package is built around a STAND-IN Electron made here (a folder holding a
// placeholder `electron` executable, passed as electronDist; the fuses are switched off for this
// build only, because @electron/fuses looks for a sentinel inside the real binary). This checks
// OUR files in the package, not Electron itself: the release workflow (.github/workflows/release.yml)
// builds with the real binary and launches the installed app.
//
// Checks: app.asar holds the bundles, package.json and the built-in datasets; every library the
// native modules need resolves inside the package; no dangling links; the size budget; the trainer
// bundle, run from the packaged tree under plain Node (app.asar extracted with @electron/asar,
// unpacked files in place), trains one epoch of built-in MNIST and saves a model; the built-in
// datasets load from the package. Exits non-zero naming the file on any failure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import {
  BUDGET,
  TF_VERSION,
  checkAsarContents,
  checkBundleRequires,
  checkLinks,
  checkNativeLibraries,
  checkSizes,
  extractApp,
  mb,
  treeBytes,
} from './checks';
import { TrainerSupervisor, forkSpawner } from '../../src-main/trainer/supervisor';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const log = (m: string) => console.log(`[test:package] ${m}`);
const failures: string[] = [];
const check = (name: string, problems: string[]) => {
  if (problems.length) {
    failures.push(...problems);
    for (const p of problems) console.log(`  FAIL ${name}: ${p}`);
  } else console.log(`  ok   ${name}`);
};

const work = fs.mkdtempSync(path.join(process.env.AE_PACKAGE_TMP ?? os.tmpdir(), 'ae-package-'));
const keep = !!process.env.AE_KEEP_PACKAGE;

/** The packaged app folder and its resources/ (Linux / Windows: resources/, macOS: the .app's Contents/Resources). */
function locate(out: string): { appDir: string; resources: string } {
  const dirs = fs
    .readdirSync(out)
    .map((d) => path.join(out, d))
    .filter((d) => fs.statSync(d).isDirectory());
  for (const d of dirs) {
    if (fs.existsSync(path.join(d, 'resources', 'app.asar')))
      return { appDir: d, resources: path.join(d, 'resources') };
    const app = fs.readdirSync(d).find((f) => f.endsWith('.app'));
    if (app && fs.existsSync(path.join(d, app, 'Contents', 'Resources', 'app.asar')))
      return { appDir: path.join(d, app), resources: path.join(d, app, 'Contents', 'Resources') };
  }
  throw new Error(`no packaged app (…/resources/app.asar) in ${out}`);
}

async function main(): Promise<void> {
  // `--check DIR`: check an existing electron-builder output folder (the release workflow runs it on
  // the real-Electron build of each OS) instead of packaging around the stand-in.
  const given = process.argv.indexOf('--check');
  let appDir: string;
  let resources: string;
  if (given > 0) {
    ({ appDir, resources } = locate(path.resolve(process.argv[given + 1] ?? 'release')));
    log(`checking the existing package in ${appDir}`);
  } else {
    if (process.platform !== 'linux') {
      log(
        `skipped on ${process.platform}: packaging around a stand-in Electron is implemented for Linux (a stand-in Electron.app / electron.exe would need a real bundle / PE file). The release workflow checks the real build of this OS with \`tsx test/package/run.ts --check release\`.`,
      );
      return;
    }
    if (
      !fs.existsSync(path.join(root, 'dist-main', 'trainer.cjs')) ||
      !fs.existsSync(path.join(root, 'dist-renderer', 'index.html'))
    ) {
      throw new Error('dist-main/ or dist-renderer/ is missing: run `npm run build` first.');
    }
    log(
      `NOTE: built around a stand-in Electron binary made by this test — this checks our files in the package, not Electron itself.`,
    );

    // The stand-in Electron distribution.
    const standIn = path.join(work, 'electron-stand-in');
    fs.mkdirSync(standIn, { recursive: true });
    fs.writeFileSync(
      path.join(standIn, 'electron'),
      '#!/bin/sh\necho "stand-in Electron binary made by npm run test:package; it cannot run the app" >&2\nexit 1\n',
      { mode: 0o755 },
    );
    fs.writeFileSync(path.join(standIn, 'version'), require('electron/package.json').version);

    const { build, Platform } = require('electron-builder') as typeof import('electron-builder');
    const out = path.join(work, 'release');
    const started = Date.now();
    log('electron-builder --dir --linux (stand-in Electron, fuses off for this build only) ...');
    await build({
      targets: Platform.LINUX.createTarget('dir'),
      projectDir: root,
      config: { electronDist: standIn, electronFuses: null, directories: { output: out } },
    });
    log(`packaged in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    ({ appDir, resources } = locate(out));
  }

  log(`checking ${resources}`);
  check('app.asar holds the bundles, package.json and the built-in datasets', checkAsarContents(resources));
  check('no dangling links', checkLinks(appDir));
  const libs = checkNativeLibraries(resources);
  check('every library of the native modules resolves inside the package', libs.problems);
  for (const r of libs.resolved) {
    const ours = Object.entries(r.libs).filter(([, where]) => where.startsWith(fs.realpathSync(resources)));
    console.log(
      `       ${path.relative(resources, r.module)}: ${ours.map(([lib]) => lib).join(', ') || '(system libraries only)'}`,
    );
  }
  const sizes = checkSizes(resources);
  check(`size budget (resources/ ≤ ${mb(BUDGET.resourcesBytes)}, app.asar ≤ ${mb(BUDGET.asarBytes)})`, sizes.problems);
  const unpackedBytes = fs.existsSync(path.join(resources, 'app.asar.unpacked'))
    ? treeBytes(path.join(resources, 'app.asar.unpacked'))
    : 0;
  log(
    `SIZE resources/ = ${mb(sizes.resourcesBytes)}; app.asar = ${mb(sizes.asarBytes)}; app.asar.unpacked = ${mb(unpackedBytes)}`,
  );

  // The trainer from the packaged tree, under plain Node.
  const app = extractApp(resources, path.join(work, 'app'));
  log(`extracted app.asar (+ unpacked files) to ${app}`);
  const reqs = checkBundleRequires(app);
  check(`every package the bundles require resolves inside the package (${reqs.packages.join(', ')})`, reqs.problems);
  log(`starting dist-main/trainer.cjs from there under Node ${process.version}`);
  const trainer = new TrainerSupervisor({
    spawn: forkSpawner(path.join(app, 'dist-main', 'trainer.cjs'), { env: { NODE_PATH: '' } }),
    readyTimeoutMs: 120_000,
    requestTimeoutMs: 120_000,
  });
  const problems: string[] = [];
  try {
    const info = await trainer.start();
    log(`trainer ready: backend=${info.backend} tensorflow=${info.tfVersion} threads=${info.threads}`);
    if (info.backend !== 'tensorflow')
      problems.push(`the packaged trainer runs on the ${info.backend} backend, not tensorflow.`);
    if (info.tfVersion !== TF_VERSION)
      problems.push(
        `the package carries TensorFlow ${info.tfVersion}; the studio ships and is tested on ${TF_VERSION} (npm run provision).`,
      );
    const where = spawnSync(process.execPath, ['-e', "console.log(require.resolve('@tensorflow/tfjs-node'))"], {
      cwd: path.join(app, 'dist-main'),
      encoding: 'utf8',
    }).stdout.trim();
    if (!where || !fs.realpathSync(where).startsWith(fs.realpathSync(app) + path.sep))
      problems.push(`tfjs-node resolves to ${where}, outside the packaged app.`);

    const ws = path.join(work, 'workspace');
    for (const name of ['mnist', 'fashion-mnist', 'shapes'] as const) {
      const t = Date.now();
      const m = await trainer.request('datasetBuiltin', { name, workspaceDir: ws });
      log(`built-in ${name}: ${m.count} images ${m.shape.join('×')} from the package in ${Date.now() - t} ms`);
      if (m.count < 1000)
        problems.push(`the built-in ${name} dataset loaded from the package has only ${m.count} images.`);
    }

    const runDir = path.join(ws, 'runs', 'package-check');
    const ended = new Promise<{ status: string; epochsDone: number; message?: string }>((resolve) => {
      trainer.on('trainer-event', (name, payload) => {
        const p = payload as { runId: string; result: { status: string; epochsDone: number; message?: string } };
        if (name === 'run-end' && p.runId === 'package-check') resolve(p.result);
      });
    });
    const t = Date.now();
    await trainer.request('runStart', {
      runId: 'package-check',
      runDir,
      workspaceDir: ws,
      config: { kind: 'dense', inputShape: [28, 28, 1], latentDim: 32, batchSize: 100, epochs: 1 },
      dataset: { builtin: 'mnist', count: 10_000 },
      resume: false,
    });
    const result = await ended;
    const model = path.join(runDir, 'model', 'model.json');
    log(
      `one epoch of built-in MNIST: ${result.status}, ${result.epochsDone} epoch(s) in ${((Date.now() - t) / 1000).toFixed(1)} s; model ${fs.existsSync(model) ? 'saved' : 'MISSING'}`,
    );
    if (result.status !== 'completed' || result.epochsDone !== 1)
      problems.push(`the packaged trainer did not train one epoch: ${result.status} ${result.message ?? ''}`);
    if (!fs.existsSync(model)) problems.push(`the packaged trainer saved no model (${model} is missing).`);

    // What else the package must carry at run time: ONNX (protobufjs), Keras (h5wasm's Node
    // build, fflate) exports and an image import (sharp + libvips, tfjs's PNG decoder).
    for (const format of ['onnx', 'keras'] as const) {
      const out = path.join(ws, 'exports', `package-check.${format}`);
      try {
        const r = await trainer.request('exportRun', {
          op: 'model',
          runDir,
          workspaceDir: ws,
          out,
          format,
          part: 'full',
        });
        log(`${format} export from the package: ${r.bytes} bytes`);
        if (!fs.existsSync(out) || r.bytes < 1000)
          problems.push(`the packaged trainer's ${format} export wrote nothing at ${out}.`);
      } catch (e) {
        problems.push(`the packaged trainer could not export ${format}: ${(e as Error).message}`);
      }
    }
    try {
      const images = [path.join(root, 'assets', 'icon.png'), path.join(root, 'assets', 'screenshot.png')];
      const p = await trainer.request('datasetPreviewImport', {
        paths: images,
        options: { size: 28, mode: 'grayscale', fit: 'crop', validationSplit: 0.1, seed: 42, background: 'black' },
        limit: 2,
      });
      log(
        `image import preview from the package: ${p.images.length} image(s) ${p.shape.join('×')}, ${p.skipped} skipped`,
      );
      if (p.images.length !== 2)
        problems.push(`the packaged trainer converted ${p.images.length} of 2 PNG files in an import preview.`);
    } catch (e) {
      problems.push(`the packaged trainer could not preview an image import: ${(e as Error).message}`);
    }
  } catch (e) {
    problems.push(`the packaged trainer failed: ${(e as Error).message}`);
  } finally {
    await trainer.stop();
  }
  check(
    'the packaged trainer trains one epoch of built-in MNIST and saves a model; built-in datasets load; ONNX / Keras exports and an image import work',
    problems,
  );
}

main()
  .catch((e: Error) => {
    failures.push(e.message);
    console.log(`  FAIL ${e.stack ?? e.message}`);
  })
  .finally(() => {
    if (!keep) fs.rmSync(work, { recursive: true, force: true });
    else log(`kept ${work}`);
    if (failures.length) {
      log(`FAILED: ${failures.length} problem(s)`);
      process.exit(1);
    }
    log('passed (our files in the package; Electron itself is checked by the release workflow)');
  });
