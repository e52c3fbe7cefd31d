// Serve under load, bounded (the full measurement is `npm run bench:serve`): a real host and its
// real trainer behind the real serve-mode server; 10 WebSocket clients call lists, galleries and
// noise previews for a few seconds while a run trains, and one more client stops reading. Every
// call must answer without an error, every client must get the run's status events in the host's
// order and its epochs in order, and the client that stopped reading must get every status event
// too once it reads again. One row of the reliability table: "serve under load", with p99.
import fs from 'node:fs';
import path from 'node:path';
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunEventPayload, RunStatusPayload } from '../../src-main/contract';
import { startServeServer } from '../../src-main/serve/server';
import { createHarness, smallDense, tempDir } from './harness';
import { tally } from './record';

const TOKEN = 'reliability-load-token-0123456789';
const CLIENTS = 10;
const SECONDS = 6;

interface Client {
  sock: WebSocket;
  statuses: string[];
  epochs: number[];
  pending: Map<number, (m: { ok: boolean; error?: { message: string } }) => void>;
}

describe('serve under load', () => {
  it(`${CLIENTS} clients call for ${SECONDS} s while a run trains: no errors, events in order everywhere, a client that stopped reading catches up`, async () => {
    const t = tally('fault', 'serve under load');
    const h = createHarness();
    const staticDir = tempDir('load-static');
    fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>load</title>');
    const server = await startServeServer({ host: h.host, staticDir, token: TOKEN });
    try {
      const done = await h.start({ ...smallDense, epochs: 1 });
      await h.waitStatus(done, 'completed');
      const reference: string[] = [];
      h.host.subscribe((n, p) => {
        if (n === 'runs:status') reference.push(`${(p as RunStatusPayload).runId}:${(p as RunStatusPayload).status}`);
      });
      const connect = () =>
        new Promise<Client>((resolve, reject) => {
          const sock = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${TOKEN}`, {
            origin: `http://127.0.0.1:${server.port}`,
          });
          const c: Client = { sock, statuses: [], epochs: [], pending: new Map() };
          sock.on('message', (data) => {
            const m = JSON.parse(data.toString());
            if ('id' in m) c.pending.get(m.id)?.(m);
            else if (m.event === 'runs:status') c.statuses.push(`${m.payload.runId}:${m.payload.status}`);
            else if (m.event === 'runs:event' && (m.payload as RunEventPayload).event.type === 'epoch')
              c.epochs.push((m.payload as RunEventPayload & { event: { epoch: number } }).event.epoch);
          });
          sock.once('open', () => resolve(c));
          sock.once('error', reject);
        });
      const clients = await Promise.all(Array.from({ length: CLIENTS }, connect));
      const slow = await connect();
      (slow.sock as unknown as { _socket: net.Socket })._socket.pause();

      const kinds: Array<[string, unknown]> = [
        ['runs:list', {}],
        ['datasets:list', {}],
        ['gallery:triplets', { runId: done, count: 8 }],
        ['noise:preview', { dataset: { builtin: 'mnist' }, noise: { type: 'gaussian', level: 0.3 }, count: 8 }],
      ];
      const latency: number[] = [];
      let errors = 0;
      const training = await h.start(
        { ...smallDense, epochs: 1000, previewEvery: 5 },
        { builtin: 'mnist', count: 2000 },
      );
      const until = Date.now() + SECONDS * 1000;
      let nextId = 1;
      await Promise.all(
        clients.map(async (c, ci) => {
          for (let i = ci; Date.now() < until; i++) {
            const [kind, payload] = kinds[i % kinds.length];
            const id = nextId++;
            const t0 = performance.now();
            const m = await new Promise<{ ok: boolean }>((resolve) => {
              c.pending.set(id, resolve);
              c.sock.send(JSON.stringify({ id, call: kind, payload }));
            });
            c.pending.delete(id);
            latency.push(performance.now() - t0);
            await t
              .attempt(() => {
                if (!m.ok) {
                  errors++;
                  throw new Error(`${kind} failed`);
                }
              })
              .catch(() => undefined);
          }
        }),
      );
      const mark = h.events.length;
      expect(await h.host.dispatch('runs:stop', { runId: training })).toMatchObject({ ok: true });
      await h.waitStatus(training, 'stopped', mark);
      (slow.sock as unknown as { _socket: net.Socket })._socket.resume();
      const deadline = Date.now() + 30_000;
      const caughtUp = () => [...clients, slow].every((c) => c.statuses.length === reference.length);
      while (!caughtUp() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // data lost: a client that missed a state event or got one out of order, or got epochs out of order
      for (const c of [...clients, slow]) {
        if (
          JSON.stringify(c.statuses) !== JSON.stringify(reference) ||
          c.epochs.some((e, i) => i > 0 && e !== c.epochs[i - 1] + 1)
        )
          t.lost();
      }
      const sorted = [...latency].sort((a, b) => a - b);
      const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
      t.note(
        `${CLIENTS} clients + 1 not reading, ${SECONDS} s, ${latency.length} calls, p50 ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`,
      );
      expect(errors).toBe(0);
      expect(slow.statuses).toEqual(reference);
      for (const c of clients) expect(c.statuses).toEqual(reference);
      expect(t.counts.dataLost).toBe(0);
      for (const c of [...clients, slow]) c.sock.close();
    } finally {
      t.done();
      await server.close();
      await h.dispose();
    }
  });
});
