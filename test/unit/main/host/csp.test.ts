// host/csp.ts: the page's Content-Security-Policy, one string for the desktop window and serve
// mode. It allows the studio's own files only (no inline or eval'd script, no inline style), images
// from data:/blob: URLs, sockets to loopback only, and no framing; the meta tag in
// src-renderer/index.html carries the same policy (less frame-ancestors, which a meta tag cannot set),
// and serve mode sends it as a header on the page.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CSP } from '../../../../src-main/host/csp';
import { startServeServer } from '../../../../src-main/serve/server';
import { repoRoot } from '../../../helpers/trainer';
import { hostInTemp } from './helpers';

/** The policy as directive → sources. */
const directives = (policy: string) =>
  new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/) as [string, ...string[]])
      .map(([name, ...sources]) => [name, sources]),
  );

describe('the Content-Security-Policy', () => {
  it("allows the studio's own files only, sockets to loopback only, and no framing", () => {
    const d = directives(CSP);
    expect(d.get('default-src')).toEqual(["'self'"]);
    expect(d.get('script-src')).toEqual(["'self'"]);
    expect(d.get('style-src')).toEqual(["'self'"]);
    expect(d.get('img-src')).toEqual(["'self'", 'data:', 'blob:']);
    expect(d.get('connect-src')).toEqual(["'self'", 'ws://127.0.0.1:*', 'ws://localhost:*']);
    for (const name of ['object-src', 'base-uri', 'form-action', 'frame-ancestors'])
      expect(d.get(name), name).toEqual(["'none'"]);
    const sources = [...d.values()].flat();
    expect(
      sources.filter((s) => /unsafe-/.test(s) || s === '*' || (/^[a-z]+:$/.test(s) && !['data:', 'blob:'].includes(s))),
    ).toEqual([]);
  });

  it('is the policy of the meta tag in index.html, less frame-ancestors', () => {
    const html = fs.readFileSync(path.join(repoRoot, 'src-renderer', 'index.html'), 'utf8');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBeDefined();
    const fromCsp = directives(CSP);
    fromCsp.delete('frame-ancestors');
    expect(directives(meta!)).toEqual(fromCsp);
  });

  it('is the header serve mode sends with the page', async () => {
    const staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-csp-static-'));
    fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>studio</title>');
    const t = hostInTemp();
    const server = await startServeServer({ host: t.host, staticDir, token: 'c'.repeat(32) });
    try {
      const header = await new Promise<string | undefined>((resolve, reject) =>
        http
          .get(`http://127.0.0.1:${server.port}/`, { headers: { Cookie: `ae_token=${'c'.repeat(32)}` } }, (res) => {
            res.resume();
            resolve(res.headers['content-security-policy'] as string | undefined);
          })
          .on('error', reject),
      );
      expect(header).toBe(CSP);
    } finally {
      await server.close();
      await t.dispose();
      fs.rmSync(staticDir, { recursive: true, force: true });
    }
  });
});
