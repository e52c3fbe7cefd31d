// Serve mode over real sockets on loopback: token on every request, Origin and Host checked,
// the contract over a real WebSocket with typed errors for bad frames.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import WebSocket from 'ws';
import { createHost, type Host } from '../../src-main/host';
import { startServeServer, tokenMatches, type ServeHandle } from '../../src-main/serve/server';
import { createTestSupervisor } from '../helpers/trainer';
import type { TrainerSupervisor } from '../../src-main/trainer/supervisor';

let trainer: TrainerSupervisor;
let host: Host;
let server: ServeHandle;
let staticDir: string;
const TOKEN = 'test-token-0123456789abcdef';

function get(
  urlPath: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: server.port, path: urlPath, headers }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

function connect(query: string, origin: string | null = `http://127.0.0.1:${server.port}`): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws${query}`, origin ? { origin } : {});
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function call(ws: WebSocket, frame: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const msg = JSON.parse(data.toString());
      if ('id' in msg) {
        ws.off('message', onMessage);
        resolve(msg);
      }
    };
    ws.on('message', onMessage);
    ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  });
}

beforeAll(async () => {
  staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-serve-'));
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Autoencoder Studio</title>');
  fs.mkdirSync(path.join(staticDir, 'assets'));
  fs.writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(os.tmpdir(), 'ae-secret.txt'), 'secret');
  trainer = createTestSupervisor();
  host = createHost({
    mode: 'serve',
    version: 'test',
    trainer,
    workspaceDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ae-ws-')),
  });
  server = await startServeServer({ host, staticDir, token: TOKEN });
});

afterAll(async () => {
  await server?.close();
  await host?.dispose();
  fs.rmSync(staticDir, { recursive: true, force: true });
});

describe('serve mode HTTP', () => {
  it('prints a loopback address with the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${TOKEN}`);
  });

  it('refuses requests without or with a wrong token', async () => {
    for (const p of ['/', '/index.html', '/assets/app.js', `/?token=${TOKEN.slice(0, -1)}`, `/?token=${TOKEN}x`]) {
      const r = await get(p);
      expect(r.status, p).toBe(401);
      expect(r.body).not.toContain('Autoencoder Studio</title>');
    }
  });

  it('serves the studio with the token, sets an HttpOnly cookie and the CSP header', async () => {
    const r = await get(`/?token=${TOKEN}`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('<title>Autoencoder Studio</title>');
    expect(r.headers['content-security-policy']).toContain("script-src 'self'");
    expect(r.headers['content-security-policy']).toContain("object-src 'none'");
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const asset = await get('/assets/app.js', { cookie: cookie.split(';')[0] });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
  });

  it('never serves files outside the renderer folder', async () => {
    for (const p of ['/../ae-secret.txt', '/%2e%2e/ae-secret.txt', '/assets/..%2f..%2fae-secret.txt', '/%00']) {
      const r = await get(`${p}${p.includes('?') ? '&' : '?'}token=${TOKEN}`);
      expect([400, 403, 404], p).toContain(r.status);
      expect(r.body).not.toBe('secret');
    }
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const r = await get(`/?token=${TOKEN}`, { host: 'evil.example:80' });
    expect(r.status).toBe(403);
  });
});

describe('serve mode WebSocket', () => {
  it('refuses sockets without the token, with a wrong token, or from another Origin', async () => {
    await expect(connect('')).rejects.toThrow(/401/);
    await expect(connect('?token=wrong')).rejects.toThrow(/401/);
    await expect(connect(`?token=${TOKEN}`, 'http://evil.example')).rejects.toThrow(/403/);
    await expect(connect(`?token=${TOKEN}`, null)).rejects.toThrow(/403/); // no Origin at all
  });

  it('runs contract calls and answers bad frames with typed errors', async () => {
    const ws = await connect(`?token=${TOKEN}`);
    expect(await call(ws, { id: 1, call: 'app:info', payload: {} })).toMatchObject({
      id: 1,
      ok: true,
      result: { mode: 'serve' },
    });
    expect(await call(ws, { id: 2, call: 'backend:info', payload: {} })).toMatchObject({
      id: 2,
      ok: true,
      result: { backend: 'tensorflow' },
    });
    expect(await call(ws, { id: 3, call: 'trainer:ping', payload: { nonce: 42 } })).toMatchObject({
      id: 3,
      ok: false,
      error: { code: 'invalid_payload' },
    });
    expect(await call(ws, { id: 4, call: 'shell:exec', payload: {} })).toMatchObject({
      id: 4,
      ok: false,
      error: { code: 'unknown_call' },
    });
    expect(await call(ws, '{not json')).toMatchObject({ id: -1, ok: false, error: { code: 'invalid_payload' } });
    expect(await call(ws, 'null')).toMatchObject({ id: -1, ok: false, error: { code: 'invalid_payload' } });
    // Still alive after all of that.
    expect(await call(ws, { id: 5, call: 'trainer:ping', payload: { nonce: 'ok' } })).toMatchObject({
      id: 5,
      ok: true,
      result: { nonce: 'ok' },
    });
    ws.close();
  });

  it('pushes host events to connected clients', async () => {
    const ws = await connect(`?token=${TOKEN}`);
    const got = new Promise((resolve) =>
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString());
        if (m.event === 'app:notice') resolve(m.payload);
      }),
    );
    host.emit('app:notice', { level: 'info', message: 'hello', at: 1 });
    expect(await got).toEqual({ level: 'info', message: 'hello', at: 1 });
    ws.close();
  });
});

describe('tokenMatches', () => {
  it('compares exactly', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(TOKEN.toUpperCase(), TOKEN)).toBe(false);
    expect(tokenMatches('', TOKEN)).toBe(false);
    expect(tokenMatches(undefined, TOKEN)).toBe(false);
    expect(tokenMatches(null, TOKEN)).toBe(false);
  });
});
