// Electron security decisions, checked without an Electron binary (none can be downloaded here).
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import {
  APP_ORIGIN,
  CONTENT_SECURITY_POLICY,
  SECURE_WEB_PREFERENCES,
  isAllowedNavigation,
  isSafeExternalUrl,
  isTrustedSender,
  resolveAppFile,
} from '../../../../src-main/electron/security';
import { repoRoot } from '../../../helpers/trainer';

const src = (f: string) => fs.readFileSync(path.join(repoRoot, 'src-main', 'electron', f), 'utf8');

describe('electron security', () => {
  it('uses isolated, sandboxed renderers without Node', () => {
    expect(SECURE_WEB_PREFERENCES).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webviewTag: false,
      webSecurity: true,
    });
  });

  it('has a strict CSP', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)/);
  });

  it('allows navigation only inside the app origin', () => {
    expect(isAllowedNavigation(`${APP_ORIGIN}/index.html`)).toBe(true);
    for (const url of [
      'https://example.com',
      'file:///etc/passwd',
      'app://other/index.html',
      'javascript:alert(1)',
      'not a url',
      `http://studio/`,
    ]) {
      expect(isAllowedNavigation(url), url).toBe(false);
    }
  });

  it('trusts only the app page in the main frame', () => {
    expect(isTrustedSender({ url: `${APP_ORIGIN}/index.html`, isMainFrame: true })).toBe(true);
    expect(isTrustedSender({ url: `${APP_ORIGIN}/index.html`, isMainFrame: false })).toBe(false);
    expect(isTrustedSender({ url: 'https://evil.example/', isMainFrame: true })).toBe(false);
    expect(isTrustedSender(null)).toBe(false);
  });

  it('serves only files inside the renderer folder', () => {
    const root = '/opt/app/dist-renderer';
    expect(resolveAppFile(root, `${APP_ORIGIN}/`, path.join, '/')).toBe(`${root}/index.html`);
    expect(resolveAppFile(root, `${APP_ORIGIN}/assets/a.js`, path.join, '/')).toBe(`${root}/assets/a.js`);
    for (const bad of [
      `${APP_ORIGIN}/../secret`,
      `${APP_ORIGIN}/%2e%2e/secret`,
      `${APP_ORIGIN}/assets/..%2F..%2Fsecret`,
      'app://other/index.html',
      `${APP_ORIGIN}/a%00b`,
    ]) {
      // Either refused, or normalised by the URL parser to a file that is still inside the root.
      const file = resolveAppFile(root, bad, path.join, '/');
      if (file !== null) expect(file.startsWith(`${root}/`) && !file.includes('..'), bad).toBe(true);
    }
    for (const bad of ['app://other/index.html', `${APP_ORIGIN}/a%00b`, `${APP_ORIGIN}/assets/..%2F..%2Fsecret`]) {
      expect(resolveAppFile(root, bad, path.join, '/'), bad).toBeNull();
    }
  });

  it('opens only https links externally', () => {
    expect(isSafeExternalUrl('https://github.com')).toBe(true);
    expect(isSafeExternalUrl('file:///home')).toBe(false);
    expect(isSafeExternalUrl('smb://host/share')).toBe(false);
  });

  it('wires those decisions into the window, IPC and preload', () => {
    const win = src('window.ts');
    expect(win).toContain('...SECURE_WEB_PREFERENCES');
    expect(win).toMatch(/setWindowOpenHandler[\s\S]*action: 'deny'/);
    expect(win).toMatch(/will-navigate[\s\S]*preventDefault/);
    expect(win).toMatch(/setPermissionRequestHandler\([^)]*\) => callback\(false\)/);
    expect(src('ipc.ts')).toMatch(/isTrustedSender/);
    const preload = src('preload.ts');
    expect(preload).not.toMatch(/exposeInMainWorld\([^)]*ipcRenderer\s*[,)]/);
    expect(preload).not.toMatch(/from '\.\.\/contract'/); // names only, no schemas, in the sandboxed preload
    // Only src-main/electron imports electron.
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (
          /\.ts$/.test(e.name) &&
          !p.includes(`${path.sep}electron${path.sep}`) &&
          /from 'electron'/.test(fs.readFileSync(p, 'utf8'))
        )
          offenders.push(p);
      }
    };
    walk(path.join(repoRoot, 'src-main'));
    expect(offenders).toEqual([]);
  });
});
