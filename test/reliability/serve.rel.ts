// Serve mode under hostile clients, over real sockets: no token / wrong tokens refused on HTTP and
// WebSocket, other Origins and Host names refused, loopback-only by default, and the token compared
// in constant time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createHost, type Host } from '../../src-main/host';
import { CALL_NAMES } from '../../src-main/contract';
import { startServeServer, tokenMatches, type ServeHandle } from '../../src-main/serve/server';
import { createTestSupervisor, repoRoot } from '../helpers/trainer';
import { tally } from './record';

const TOKEN = 'reliability-token-0123456789abcdef';
let host: Host;
let server: ServeHandle;

function get(urlPath: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: server.port, path: urlPath, headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

function wsStatus(query: string, headers: Record<string, string | undefined>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws${query}`, {
      headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>,
    });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
}

beforeAll(async () => {
  const staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-rel-static-'));
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Autoencoder Studio</title>');
  host = createHost({
    mode: 'serve',
    version: 'test',
    trainer: createTestSupervisor(),
    workspaceDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ae-rel-serve-ws-')),
  });
  server = await startServeServer({ host, staticDir, token: TOKEN }); // no bindAddress: the default
});
afterAll(async () => {
  await server?.close();
  await host?.dispose();
});

const WRONG = [
  '',
  'x',
  TOKEN.slice(0, -1),
  `${TOKEN}x`,
  TOKEN.toUpperCase(),
  ` ${TOKEN}`,
  `${TOKEN}\u0000`,
  encodeURIComponent('ä'.repeat(40)),
  'a'.repeat(100_000),
];

describe('hostile input: serve mode', () => {
  it('no token or a wrong token is refused (HTTP 401, WebSocket 401); the right one works', async () => {
    const t = tally('hostile', 'serve: missing / wrong tokens (HTTP + WebSocket)');
    const origin = () => `http://127.0.0.1:${server.port}`;
    try {
      await t.attempt(async () => expect(await get('/')).toBe(401));
      await t.attempt(async () => expect(await wsStatus('', { Origin: origin() })).toBe(401));
      for (const w of WRONG) {
        const q = `?token=${encodeURIComponent(w)}`;
        await t.attempt(async () => expect([401, 431], `HTTP ${w.slice(0, 20)}`).toContain(await get(`/${q}`)));
        await t.attempt(async () =>
          expect([401, 431, -1], `WS ${w.slice(0, 20)}`).toContain(await wsStatus(q, { Origin: origin() })),
        );
        await t.attempt(async () =>
          expect([401, 431], `cookie ${w.slice(0, 20)}`).toContain(
            await get('/', { cookie: `ae_token=${encodeURIComponent(w)}` }),
          ),
        );
      }
      expect(await get(`/?token=${TOKEN}`)).toBe(200);
      expect(await wsStatus(`?token=${TOKEN}`, { Origin: origin() })).toBe(101);
    } finally {
      t.done();
    }
  });

  it('a socket from another Origin, or a foreign Host header, is refused even with the token', async () => {
    const t = tally('hostile', 'serve: foreign Origin / Host (DNS rebinding)');
    try {
      for (const o of [
        'http://evil.example',
        'null',
        `http://127.0.0.1:${server.port + 1}`,
        `https://127.0.0.1:${server.port}`,
        `http://localhost.evil.example:${server.port}`,
        'file://',
        undefined,
      ]) {
        await t.attempt(async () => expect(await wsStatus(`?token=${TOKEN}`, { Origin: o }), String(o)).toBe(403));
      }
      for (const hdr of [
        'evil.example',
        `evil.example:${server.port}`,
        `127.0.0.1.nip.io:${server.port}`,
        `127.0.0.1:${server.port + 1}`,
      ]) {
        await t.attempt(async () => expect(await get(`/?token=${TOKEN}`, { host: hdr }), hdr).toBe(403));
      }
    } finally {
      t.done();
    }
  });

  it('every call over the WebSocket with hostile frames gets a typed error frame; the socket and host stay up', async () => {
    const t = tally('hostile', 'serve: hostile WebSocket frames for every call (JSON, __proto__, huge)');
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${TOKEN}`, {
      origin: `http://127.0.0.1:${server.port}`,
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const pending = new Map<number, (m: Record<string, unknown>) => void>();
    const anon: Array<(m: Record<string, unknown>) => void> = [];
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (!('id' in m)) return;
      (m.id === -1 ? anon.shift() : pending.get(m.id))?.(m);
    });
    let id = 0;
    const send = (raw: string, idOf?: number) =>
      new Promise<Record<string, unknown>>((resolve) => {
        if (idOf === undefined) anon.push(resolve);
        else pending.set(idOf, resolve);
        ws.send(raw);
      });
    try {
      for (const name of CALL_NAMES) {
        const frames = [
          `{"id": ${++id}, "call": "${name}", "payload": 42}`,
          `{"id": ${++id}, "call": "${name}", "payload": {"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}}`,
          `{"id": ${++id}, "call": "${name}", "payload": {"zzz": "${'y'.repeat(200_000)}"}}`,
          `{"id": ${++id}, "call": "${name}", "payload": [${'1,'.repeat(50_000)}1]}`,
        ];
        for (let i = 0; i < frames.length; i++) {
          const fid = id - frames.length + 1 + i;
          await t.attempt(async () =>
            expect(await send(frames[i], fid), `${name} frame ${i}`).toMatchObject({
              id: fid,
              ok: false,
              error: { code: 'invalid_payload' },
            }),
          );
        }
      }
      for (const raw of ['{', 'null', '[]', '"x"', `{"id": "1", "call": 7}`]) {
        await t.attempt(async () => expect((await send(raw)).ok, raw).toBe(false));
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(await send(`{"id": ${++id}, "call": "app:info", "payload": {}}`, id)).toMatchObject({
        ok: true,
        result: { mode: 'serve' },
      });
    } finally {
      ws.close();
      t.done();
    }
  });

  it('listens on loopback only by default', async () => {
    const t = tally('security', 'serve: loopback by default');
    try {
      await t.attempt(() => expect(server.url.startsWith(`http://127.0.0.1:${server.port}/`)).toBe(true));
      // the CLI's default --host is loopback too
      await t.attempt(() =>
        expect(fs.readFileSync(path.join(repoRoot, 'src-main', 'serve', 'cli.ts'), 'utf8')).toMatch(
          /host: \{ type: 'string', default: '127\.0\.0\.1' \}/,
        ),
      );
      // not reachable on this machine's other addresses
      const external = Object.values(os.networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
      if (external) {
        await t.attempt(async () => {
          const err = await new Promise<string>((resolve) => {
            const s = net.connect({ host: external, port: server.port }, () => {
              s.destroy();
              resolve('connected');
            });
            s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
          });
          expect(err, `connect to ${external}:${server.port}`).toBe('ECONNREFUSED');
        });
      }
    } finally {
      t.done();
    }
  });

  it('compares the token in constant time', async () => {
    const t = tally('security', 'serve: constant-time token comparison');
    try {
      // by construction: fixed-length digests through crypto.timingSafeEqual, no early-exit comparison of the token
      const src = fs.readFileSync(path.join(repoRoot, 'src-main', 'serve', 'server.ts'), 'utf8');
      const fn = src.slice(
        src.indexOf('export function tokenMatches'),
        src.indexOf('\n}\n', src.indexOf('export function tokenMatches')),
      );
      await t.attempt(() => expect(fn).toMatch(/createHash\('sha256'\)\.update\(presented\)/));
      await t.attempt(() => expect(fn).toMatch(/timingSafeEqual\(a, b\)/));
      await t.attempt(() =>
        expect(fn).not.toMatch(/presented\s*===\s*token|token\s*===\s*presented|\.startsWith\(|\.indexOf\(/),
      );
      // lengths that differ do not throw (timingSafeEqual would on raw buffers)
      await t.attempt(() =>
        expect([tokenMatches('a', TOKEN), tokenMatches('a'.repeat(10_000), TOKEN), tokenMatches(TOKEN, TOKEN)]).toEqual(
          [false, false, true],
        ),
      );
      // and measured: a wrong token sharing all but the last character costs what one sharing nothing costs
      await t.attempt(() => {
        const near = `${TOKEN.slice(0, -1)}!`;
        const far = `!${'?'.repeat(TOKEN.length - 1)}`;
        const time = (p: string) => {
          const t0 = process.hrtime.bigint();
          for (let i = 0; i < 20_000; i++) tokenMatches(p, TOKEN);
          return Number(process.hrtime.bigint() - t0);
        };
        const near1: number[] = [];
        const far1: number[] = [];
        for (let r = 0; r < 9; r++) {
          near1.push(time(near));
          far1.push(time(far));
        }
        const med = (a: number[]) => [...a].sort((x, y) => x - y)[4];
        const ratio = med(near1) / med(far1);
        expect(ratio, `near/far median time ratio ${ratio.toFixed(2)}`).toBeGreaterThan(0.67);
        expect(ratio).toBeLessThan(1.5);
      });
    } finally {
      t.done();
    }
  });
});
