// Electron's security checklist, checked over the main-process code without an Electron binary
// (none can be downloaded here). @doyensec/electronegativity was considered: it parses with
// TypeScript 4.2 (our sources use 5.x syntax), pulls ~200 packages incl. eslint 7 and an install
// script, and has not been released since 2022 — so its checks are written here instead, on the
// TypeScript compiler's AST of src-main/electron/*.ts plus the security decisions as data.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/trainer';
import {
  APP_ORIGIN,
  CONTENT_SECURITY_POLICY,
  SECURE_WEB_PREFERENCES,
  isAllowedNavigation,
  isSafeExternalUrl,
  isTrustedSender,
  resolveAppFile,
} from '../../src-main/electron/security';
import { tally } from './record';

const dir = path.join(repoRoot, 'src-main', 'electron');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'));
const sources = Object.fromEntries(
  files.map((f) => [
    f,
    ts.createSourceFile(f, fs.readFileSync(path.join(dir, f), 'utf8'), ts.ScriptTarget.Latest, true),
  ]),
);
const text = (f: string) => sources[f].getFullText();

/** Every node of every main-process file that `pick` accepts. */
function find<T extends ts.Node>(pick: (n: ts.Node) => n is T): Array<{ file: string; node: T }> {
  const out: Array<{ file: string; node: T }> = [];
  for (const [file, sf] of Object.entries(sources)) {
    const walk = (n: ts.Node) => {
      if (pick(n)) out.push({ file, node: n });
      ts.forEachChild(n, walk);
    };
    walk(sf);
  }
  return out;
}
const calls = (name: string) =>
  find(
    (n): n is ts.CallExpression =>
      ts.isCallExpression(n) &&
      (ts.isPropertyAccessExpression(n.expression)
        ? n.expression.name.text === name
        : ts.isIdentifier(n.expression) && n.expression.text === name),
  );
const enclosingIf = (n: ts.Node): ts.IfStatement | undefined => {
  for (let p = n.parent; p; p = p.parent) if (ts.isIfStatement(p)) return p;
  return undefined;
};

describe('security: Electron checklist over the main-process code', () => {
  it('webPreferences: isolated, sandboxed, no Node, web security on, nothing weakened anywhere', () => {
    const t = tally(
      'security',
      'electron: webPreferences (contextIsolation, sandbox, no nodeIntegration, webSecurity…)',
    );
    try {
      t.check(() =>
        expect(SECURE_WEB_PREFERENCES).toEqual({
          contextIsolation: true,
          sandbox: true,
          nodeIntegration: false,
          nodeIntegrationInWorker: false,
          nodeIntegrationInSubFrames: false,
          webviewTag: false,
          webSecurity: true,
          allowRunningInsecureContent: false,
          experimentalFeatures: false,
          spellcheck: false,
        }),
      );
      t.check(() => expect(Object.isFrozen(SECURE_WEB_PREFERENCES)).toBe(true));
      // every window/view created spreads the secure preferences and overrides none of them
      const creations = find(
        (n): n is ts.NewExpression =>
          ts.isNewExpression(n) &&
          ts.isIdentifier(n.expression) &&
          ['BrowserWindow', 'BrowserView', 'WebContentsView'].includes(n.expression.text),
      );
      t.check(() => expect(creations.length).toBeGreaterThan(0));
      for (const { file, node } of creations) {
        t.check(() => {
          const arg = node.arguments?.[0];
          expect(arg && ts.isObjectLiteralExpression(arg), file).toBe(true);
          const wp = (arg as ts.ObjectLiteralExpression).properties.find(
            (p) => p.name && (p.name as ts.Identifier).text === 'webPreferences',
          ) as ts.PropertyAssignment;
          const obj = wp.initializer as ts.ObjectLiteralExpression;
          expect(
            ts.isSpreadAssignment(obj.properties[0]) &&
              obj.properties[0].expression.getText() === 'SECURE_WEB_PREFERENCES',
            `${file}: webPreferences must start with ...SECURE_WEB_PREFERENCES`,
          ).toBe(true);
          const overridden = obj.properties.slice(1).map((p) => (p.name as ts.Identifier | undefined)?.text);
          expect(
            overridden.filter((k) => k && k in SECURE_WEB_PREFERENCES),
            file,
          ).toEqual([]);
          expect(
            overridden.filter(
              (k) => k && ['enableBlinkFeatures', 'preload', 'additionalArguments'].includes(k) && k !== 'preload',
            ),
          ).toEqual([]);
        });
      }
      // no weakening flag anywhere in the main process
      const all = files.map(text).join('\n');
      for (const bad of [
        /nodeIntegration\s*:\s*true/,
        /contextIsolation\s*:\s*false/,
        /sandbox\s*:\s*false/,
        /webSecurity\s*:\s*false/,
        /allowRunningInsecureContent\s*:\s*true/,
        /webviewTag\s*:\s*true/,
        /experimentalFeatures\s*:\s*true/,
        /enableBlinkFeatures/,
        /ELECTRON_DISABLE_SECURITY_WARNINGS/,
        /@electron\/remote/,
        /enableRemoteModule/,
        /appendSwitch\(/,
        /allowFileAccessFromFileUrls|disable-web-security|ignore-certificate-errors/,
      ]) {
        t.check(() => expect(all, String(bad)).not.toMatch(bad));
      }
    } finally {
      t.done();
    }
  });

  it('a strict CSP: header on every app:// response and the same policy in the page', () => {
    const t = tally('security', 'electron: CSP (strict, header + meta)');
    try {
      const directives = Object.fromEntries(
        CONTENT_SECURITY_POLICY.split(';')
          .map((d) => d.trim().split(/\s+/))
          .map(([k, ...v]) => [k, v]),
      );
      t.check(() => expect(directives['default-src']).toEqual(["'self'"]));
      t.check(() => expect(directives['script-src']).toEqual(["'self'"]));
      t.check(() => expect(directives['object-src']).toEqual(["'none'"]));
      t.check(() => expect(directives['base-uri']).toEqual(["'none'"]));
      t.check(() => expect(directives['frame-ancestors']).toEqual(["'none'"]));
      t.check(() => expect(directives['form-action']).toEqual(["'none'"]));
      t.check(() =>
        expect(CONTENT_SECURITY_POLICY).not.toMatch(
          /unsafe-inline|unsafe-eval|unsafe-hashes|wasm-unsafe-eval|strict-dynamic|\s\*(\s|;|$)|https?:(\s|;|$)|http:\/\/(?!127\.0\.0\.1|localhost)/,
        ),
      );
      t.check(() =>
        expect(
          directives['connect-src'].every((s) => ["'self'", 'ws://127.0.0.1:*', 'ws://localhost:*'].includes(s)),
          directives['connect-src'].join(' '),
        ).toBe(true),
      );
      // the protocol handler sets the header on every response
      t.check(() =>
        expect(text('main.ts')).toMatch(
          /protocol\.handle\(APP_SCHEME[\s\S]*headers\.set\('Content-Security-Policy', CONTENT_SECURITY_POLICY\)/,
        ),
      );
      // the page's meta CSP is the same policy minus frame-ancestors (not allowed in a meta tag)
      const html = fs.readFileSync(path.join(repoRoot, 'src-renderer', 'index.html'), 'utf8');
      const meta = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
      t.check(() => expect(meta).toBe(CONTENT_SECURITY_POLICY.replace("; frame-ancestors 'none'", '')));
      // the privileged scheme does not bypass the CSP or open service workers
      const priv = /registerSchemesAsPrivileged\(\[\{[^\]]*privileges: \{([^}]*)\}/.exec(text('main.ts'))?.[1] ?? '';
      t.check(() => expect(priv).not.toMatch(/bypassCSP|allowServiceWorkers|corsEnabled|stream/));
    } finally {
      t.done();
    }
  });

  it('navigation, new windows, webviews and redirects are blocked; links open externally only when https', () => {
    const t = tally('security', 'electron: navigation / new windows / webviews blocked');
    try {
      const win = text('window.ts');
      t.check(() => expect(win).toMatch(/setWindowOpenHandler\([\s\S]*?return \{ action: 'deny' \}/));
      t.check(() =>
        expect(win).toMatch(
          /on\('will-navigate', \(e, url\) => \{\s*if \(!isAllowedNavigation\(url\)\) e\.preventDefault\(\);/,
        ),
      );
      t.check(() =>
        expect(win).toMatch(
          /on\('will-redirect', \(e, url\) => \{\s*if \(!isAllowedNavigation\(url\)\) e\.preventDefault\(\);/,
        ),
      );
      t.check(() => expect(win).toMatch(/on\('will-attach-webview', \(e\) => e\.preventDefault\(\)\)/));
      // every shell.openExternal sits behind isSafeExternalUrl
      for (const { file, node } of calls('openExternal'))
        t.check(() => expect(enclosingIf(node)?.expression.getText(), file).toMatch(/^isSafeExternalUrl\(/));
      for (const url of [`${APP_ORIGIN}/index.html`, `${APP_ORIGIN}/assets/x.js`])
        t.check(() => expect(isAllowedNavigation(url)).toBe(true));
      for (const url of [
        'https://example.com',
        'http://127.0.0.1:1234/',
        'file:///etc/passwd',
        'app://studio.evil/x',
        'app://other/',
        'javascript:alert(1)',
        'data:text/html,x',
        'about:blank',
        'devtools://devtools',
        'chrome://settings',
        'app:studio',
      ]) {
        t.check(() => expect(isAllowedNavigation(url), url).toBe(false));
      }
      for (const url of [
        'http://example.com',
        'file:///home',
        'smb://host/share',
        'javascript:alert(1)',
        'mailto:a@b',
        'ms-msdt:x',
        'vbscript:x',
      ])
        t.check(() => expect(isSafeExternalUrl(url), url).toBe(false));
    } finally {
      t.done();
    }
  });

  it('permission requests and checks are denied by default, before any window exists', () => {
    const t = tally('security', 'electron: permissions denied by default');
    try {
      const win = text('window.ts');
      t.check(() =>
        expect(win).toMatch(/setPermissionRequestHandler\(\(_wc, _permission, callback\) => callback\(false\)\)/),
      );
      t.check(() => expect(win).toMatch(/setPermissionCheckHandler\(\(\) => false\)/));
      const main = text('main.ts');
      t.check(() => expect(main.indexOf('lockDownSession()')).toBeGreaterThan(0));
      t.check(() => expect(main.indexOf('lockDownSession()')).toBeLessThan(main.indexOf('createMainWindow(')));
    } finally {
      t.done();
    }
  });

  it('IPC: every handler checks its sender, the preload exposes only the contract, no other ipcMain use', () => {
    const t = tally('security', 'electron: IPC senders validated, minimal preload');
    try {
      const handles = calls('handle').filter(({ node }) => node.expression.getText() === 'ipcMain.handle');
      t.check(() => expect(handles.map((h) => h.file)).toEqual(['ipc.ts']));
      for (const { node } of handles)
        t.check(() =>
          expect(node.arguments[1].getText()).toMatch(
            /event\.sender === getWindow\(\)\?\.webContents &&\s*isTrustedSender\(\{ url: frame\.url, isMainFrame: frame\.parent === null \}\)[\s\S]*if \(!trusted\)\s*return \{ ok: false, error: \{ code: 'forbidden'/,
          ),
        );
      // nothing but ipc.ts touches ipcMain, and only with handle / removeHandler
      const ipcUses = find(
        (n): n is ts.PropertyAccessExpression =>
          ts.isPropertyAccessExpression(n) && n.expression.getText() === 'ipcMain',
      );
      t.check(() =>
        expect([...new Set(ipcUses.map(({ file, node }) => `${file}:${node.name.text}`))].sort()).toEqual([
          'ipc.ts:handle',
          'ipc.ts:removeHandler',
        ]),
      );
      for (const frame of [
        null,
        undefined,
        { url: `${APP_ORIGIN}/index.html`, isMainFrame: false },
        { url: 'https://evil.example/', isMainFrame: true },
        { url: 'file:///x/index.html', isMainFrame: true },
        { url: 'app://studio.evil/index.html', isMainFrame: true },
        { url: 'about:blank', isMainFrame: true },
      ]) {
        t.check(() => expect(isTrustedSender(frame), JSON.stringify(frame)).toBe(false));
      }
      t.check(() => expect(isTrustedSender({ url: `${APP_ORIGIN}/index.html`, isMainFrame: true })).toBe(true));
      const preload = text('preload.ts');
      const exposed = calls('exposeInMainWorld').filter(({ file }) => file === 'preload.ts');
      t.check(() => expect(exposed.length).toBe(1));
      t.check(() => {
        const obj = exposed[0].node.arguments[1] as ts.ObjectLiteralExpression;
        expect(obj.properties.map((p) => (p.name as ts.Identifier).text)).toEqual([
          'calls',
          'events',
          'getPathForFile',
        ]);
      });
      t.check(() =>
        expect(preload).not.toMatch(/exposeInMainWorld\([^)]*\b(ipcRenderer|require|process|shell)\b\s*[,)}]/),
      );
      t.check(() => expect(preload).toMatch(/ipcRenderer\.invoke\(name, payload\)/)); // only the contract's own names
    } finally {
      t.done();
    }
  });

  it('no remote content: the window loads only app://, files are served only from the renderer folder', () => {
    const t = tally('security', 'electron: no remote content, app:// confined');
    try {
      const loads = [...calls('loadURL'), ...calls('loadFile')];
      t.check(() => expect(loads.length).toBeGreaterThan(0));
      for (const { file, node } of loads)
        t.check(() => expect(node.arguments[0].getText(), file).toMatch(/^`\$\{APP_ORIGIN\}\//));
      const all = files.map(text).join('\n');
      t.check(() => expect(all).not.toMatch(/['"`]https?:\/\/(?!127\.0\.0\.1|localhost)/)); // no remote URL literal at all
      t.check(() => expect(all).not.toMatch(/executeJavaScript|insertCSS|webContents\.debugger/));
      t.check(() =>
        expect(text('main.ts')).toMatch(
          /resolveAppFile\(rendererDir, request\.url[\s\S]*if \(!file\) return new Response\('Forbidden', \{ status: 403 \}\)/,
        ),
      );
      const root = '/opt/app/dist-renderer';
      for (const bad of [
        `${APP_ORIGIN}/../secret`,
        `${APP_ORIGIN}/%2e%2e/%2e%2e/etc/passwd`,
        `${APP_ORIGIN}/assets/..%2F..%2Fsecret`,
        `${APP_ORIGIN}/a%00b`,
        'app://other/index.html',
        'https://studio/index.html',
        `${APP_ORIGIN}/%5c..%5csecret`,
      ]) {
        t.check(() => {
          const file = resolveAppFile(root, bad, path.join, '/');
          expect(
            file === null || (file.startsWith(`${root}/`) && !file.split('/').includes('..')),
            `${bad} → ${file}`,
          ).toBe(true);
        });
      }
      // the packaged app's fuses: no RunAsNode, no NODE_OPTIONS, asar integrity
      const yml = fs.readFileSync(path.join(repoRoot, 'electron-builder.yml'), 'utf8');
      t.check(() => expect(yml).toMatch(/runAsNode: false/));
      t.check(() => expect(yml).toMatch(/enableNodeOptionsEnvironmentVariable: false/));
      // a supported Electron
      const version = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).devDependencies
        .electron as string;
      t.check(() => expect(Number(/\d+/.exec(version)?.[0])).toBeGreaterThanOrEqual(37));
    } finally {
      t.done();
    }
  });
});
