// `npm run bench:serve`: serve mode under load, on loopback, for a fixed time. A real host (its real
// trainer process) behind the real serve-mode server; CLIENTS WebSocket clients (20 by default)
// issue calls in turn — runs:list, datasets:list, gallery:triplets, noise:preview, evaluate:run —
// while two runs train and a dataset import (built-in Shapes) runs. Prints, per call kind, the
// count and p50/p99 latency; the errors (must be 0); whether every client got every run's status
// events and epochs in order; the host's and the trainer's RSS before and after (the trainer's
// tensor count is not reachable from the host; its RSS stands for it). The first evaluate:run of
// the run computes the evaluation (seconds), later ones are answered from the trainer's cache.
//   BENCH_SERVE_SECONDS (default 60), BENCH_SERVE_CLIENTS (default 20); `--quick`: 8 s.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createHost } from '../../src-main/host';
import { startServeServer } from '../../src-main/serve/server';
import type { RunEventPayload, RunStatusPayload } from '../../src-main/contract';
import { createTestSupervisor } from '../helpers/trainer';

const quick = process.argv.includes('--quick');
const SECONDS = Number(process.env.BENCH_SERVE_SECONDS ?? (quick ? 8 : 60));
const CLIENTS = Number(process.env.BENCH_SERVE_CLIENTS ?? 20);
const TOKEN = 'bench-serve-token-0123456789';
const dense = { kind: 'dense', inputShape: [28, 28, 1], latentDim: 8, hidden: [64], batchSize: 64, previewEvery: 20 };

const rssMb = (pid: number) => {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Math.round(kb / 1024);
  } catch {
    return Number.NaN;
  }
};
const pct = (xs: number[], p: number) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] : Number.NaN;

const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-bench-serve-'));
const staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-bench-serve-static-'));
fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>bench</title>');
const trainer = createTestSupervisor({ requestTimeoutMs: 600_000 });
const host = createHost({ mode: 'serve', version: 'bench', trainer, workspaceDir: ws });
const call = async <T>(name: string, payload: unknown): Promise<T> => {
  const r = await host.dispatch(name, payload);
  if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
  return r.result as T;
};
const statusOf = (runId: string, wanted: string) =>
  new Promise<void>((resolve) => {
    const off = host.subscribe((n, p) => {
      if (n === 'runs:status' && (p as RunStatusPayload).runId === runId && (p as RunStatusPayload).status === wanted) {
        off();
        resolve();
      }
    });
  });

try {
  // Not timed: a trained run for the gallery and evaluation calls.
  const { runId: done } = await call<{ runId: string }>('runs:start', {
    config: { ...dense, epochs: 1 },
    dataset: { builtin: 'mnist', count: 2000 },
  });
  await statusOf(done, 'completed');
  const server = await startServeServer({ host, staticDir, token: TOKEN });
  const hostRssBefore = rssMb(process.pid);
  const trainerRssBefore = rssMb(trainer.pid ?? -1);

  // What the host itself sent, as the reference every client must match (runs:status in order).
  const reference: string[] = [];
  host.subscribe((n, p) => {
    if (n === 'runs:status') reference.push(`${(p as RunStatusPayload).runId}:${(p as RunStatusPayload).status}`);
  });

  const kinds: Array<[string, unknown]> = [
    ['runs:list', {}],
    ['datasets:list', {}],
    ['gallery:triplets', { runId: done, count: 8 }],
    ['noise:preview', { dataset: { builtin: 'mnist' }, noise: { type: 'gaussian', level: 0.3 }, count: 8 }],
    ['evaluate:run', { runId: done }],
  ];
  const latency = new Map<string, number[]>(kinds.map(([k]) => [k, []]));
  let errors = 0;
  const errorSamples: string[] = [];
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, () => {
      return new Promise<{
        sock: WebSocket;
        statuses: string[];
        epochs: Map<string, number[]>;
        pending: Map<number, (m: { ok: boolean; error?: { message: string } }) => void>;
      }>((resolve, reject) => {
        const sock = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${TOKEN}`, {
          origin: `http://127.0.0.1:${server.port}`,
        });
        const c = {
          sock,
          statuses: [] as string[],
          epochs: new Map<string, number[]>(),
          pending: new Map<number, (m: { ok: boolean; error?: { message: string } }) => void>(),
        };
        sock.on('message', (data) => {
          const m = JSON.parse(data.toString());
          if ('id' in m) c.pending.get(m.id)?.(m);
          else if (m.event === 'runs:status') c.statuses.push(`${m.payload.runId}:${m.payload.status}`);
          else if (m.event === 'runs:event' && (m.payload as RunEventPayload).event.type === 'epoch') {
            const p = m.payload as RunEventPayload & { event: { epoch: number } };
            c.epochs.set(p.runId, [...(c.epochs.get(p.runId) ?? []), p.event.epoch]);
          }
        });
        sock.once('open', () => resolve(c));
        sock.once('error', reject);
      });
    }),
  );

  // The load: two runs train, an import runs, every client calls in turn until the time is up.
  const runs = await Promise.all(
    [0, 1].map(() =>
      call<{ runId: string }>('runs:start', {
        config: { ...dense, epochs: 1000 },
        dataset: { builtin: 'mnist', count: 3000 },
      }),
    ),
  );
  const importing = call('datasets:addBuiltin', { name: 'shapes' }).catch((e) => {
    errors++;
    errorSamples.push(`import: ${(e as Error).message}`);
  });
  const until = Date.now() + SECONDS * 1000;
  let nextId = 1;
  await Promise.all(
    clients.map(async (c, ci) => {
      for (let i = ci; Date.now() < until; i++) {
        const [kind, payload] = kinds[i % kinds.length];
        const id = nextId++;
        const t0 = performance.now();
        const m = await new Promise<{ ok: boolean; error?: { message: string } }>((resolve) => {
          c.pending.set(id, resolve);
          c.sock.send(JSON.stringify({ id, call: kind, payload }));
        });
        c.pending.delete(id);
        latency.get(kind)?.push(performance.now() - t0);
        if (!m.ok) {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(`${kind}: ${m.error?.message}`);
        }
      }
    }),
  );
  const stopped = runs.map((r) => statusOf(r.runId, 'stopped'));
  for (const r of runs) await call('runs:stop', { runId: r.runId });
  await Promise.all(stopped);
  await importing;
  await new Promise((r) => setTimeout(r, 500)); // the last events reach the sockets
  const hostRssAfter = rssMb(process.pid);
  const trainerRssAfter = rssMb(trainer.pid ?? -1);

  const inOrder = clients.every(
    (c) =>
      JSON.stringify(c.statuses) === JSON.stringify(reference.slice(reference.length - c.statuses.length)) &&
      c.statuses.length > 0,
  );
  const epochsInOrder = clients.every((c) =>
    [...c.epochs.values()].every((es) => es.every((e, i) => i === 0 || e === es[i - 1] + 1)),
  );
  console.log(
    `serve under load: ${CLIENTS} clients, ${SECONDS} s, two runs training and an import (${os.cpus().length} cores)`,
  );
  console.log('call kind            calls   p50 ms   p99 ms');
  for (const [kind, xs] of latency)
    console.log(
      `${kind.padEnd(20)} ${String(xs.length).padStart(5)} ${pct(xs, 50).toFixed(1).padStart(8)} ${pct(xs, 99).toFixed(1).padStart(8)}`,
    );
  console.log(`errors: ${errors}${errorSamples.length ? ` (${errorSamples.join('; ')})` : ''}`);
  console.log(
    `run status events in the host's order at every client: ${inOrder}; epochs in order at every client: ${epochsInOrder}`,
  );
  console.log(`RSS host ${hostRssBefore} → ${hostRssAfter} MB, trainer ${trainerRssBefore} → ${trainerRssAfter} MB`);
  console.log(
    `RESULT ${JSON.stringify({ bench: 'serve', clients: CLIENTS, seconds: SECONDS, errors, inOrder, epochsInOrder, hostRssBefore, hostRssAfter, trainerRssBefore, trainerRssAfter, latency: Object.fromEntries([...latency].map(([k, xs]) => [k, { calls: xs.length, p50: pct(xs, 50), p99: pct(xs, 99) }])) })}`,
  );
  for (const c of clients) c.sock.close();
  await server.close();
  process.exitCode = errors || !inOrder || !epochsInOrder ? 1 : 0;
} finally {
  await host.dispose();
  fs.rmSync(ws, { recursive: true, force: true });
  fs.rmSync(staticDir, { recursive: true, force: true });
}
