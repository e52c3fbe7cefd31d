// A cluster job on several nodes, for real, on this machine: two torchrun agents ("nodes") of one
// worker each meet at an elastic c10d rendezvous on 127.0.0.1 (launch.sh --nnodes 2
// --rdzv-endpoint 127.0.0.1:PORT, started twice), with PyTorch 2.13 CPU from the local pip index.
//  - they train to the same result as one node with two workers: the same losses, epoch by epoch,
//    and the same weights (the sampler shards, seeds and gradient averaging depend on the rank only);
//  - a worker SIGKILLed mid-epoch under the elastic launcher (--max-restarts 1): both agents
//    restart their workers, which continue from the last checkpoint; no epoch is lost or repeated;
//  - a whole node (its agent and its worker) SIGKILLed mid-epoch and launched again: the other
//    node's agent restarts its worker, the two meet again and continue from the last checkpoint.
// Loopback only. Every launch is bounded (ELASTIC_LIMIT_MS for the restarts): a hang fails the test
// with the launchers' output, and the launcher, its workers (torchrun starts them in sessions of
// their own) and everything under them are killed.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src-main/engine';
import { exportJob } from '../../src-main/cluster/export';
import { readF32, readSafetensorsHeader } from '../../src-main/cluster/safetensors';
import { TORCH_REQUIREMENTS, ensurePyEnv } from '../helpers/pyenv';

const env = ensurePyEnv(TORCH_REQUIREMENTS);
let work: string;
let jobDir: string;

interface Launch {
  code: number | null;
  output: string;
}

/** A restart takes 13–35 s on two busy cores; a hang is cut off here (measured: docs/cluster.md). */
const ELASTIC_LIMIT_MS = 150_000;

/** The processes under `pid`, deepest first (torchrun's workers run in sessions of their own). */
function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    // pgrep exits 1 when there are none
  }
  return kids.flatMap((k) => [...descendants(k), k]);
}

/** SIGKILLs `pid`'s descendants, then its process group. */
function killTree(pid: number): void {
  for (const p of descendants(pid)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Launchers still running: killed with their workers when the file ends (a failed test leaves none behind). */
const running = new Set<number>();

/** Starts launch.sh (killed with its workers after `timeoutMs`); `onLine` sees every output line as it comes. */
function start(args: string[], onLine?: (line: string) => void, timeoutMs = 240_000) {
  const child = spawn(path.join(jobDir, 'launch.sh'), args, {
    env: { ...process.env, PYTHON: env.python, OMP_NUM_THREADS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group
  });
  running.add(child.pid!);
  const done = new Promise<Launch>((resolve, reject) => {
    let output = '';
    let pending = '';
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) onLine?.(l);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => {
      killTree(child.pid!);
      reject(new Error(`launch.sh ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${output.slice(-20_000)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      running.delete(child.pid!);
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
  return { pid: child.pid!, done };
}

/** Runs launch.sh to its end. */
const launch = (args: string[], onLine?: (line: string) => void, timeoutMs = 240_000) =>
  start(args, onLine, timeoutMs).done;

/** Resolves once something accepts connections on 127.0.0.1:port. */
async function listening(port: number, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A TCP port free on 127.0.0.1 now. */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

const metricsOf = (out: string) =>
  fs
    .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(
      (l) =>
        JSON.parse(l) as { epoch: number; train_loss: number; val_loss: number; world_size: number; restart: number },
    );

function weightsOf(out: string): Map<string, Float32Array> {
  const h = readSafetensorsHeader(path.join(out, 'checkpoint', 'model.safetensors'));
  return new Map([...h.entries.keys()].map((name) => [name, readF32(h, name)]));
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-cluster-nodes-'));
  jobDir = path.join(work, 'job');
  // conv on 400 digits, batch 8 (4 per worker): small, but an epoch is 45 steps, so "mid-epoch" is wide
  await exportJob({
    config: { kind: 'conv', inputShape: [28, 28, 1], latentDim: 8, hidden: [4, 8], batchSize: 8, epochs: 2, seed: 7 },
    dataset: loadMnist(400, { seed: 3 }),
    labelNames: [...'0123456789'],
    datasetSpec: null,
    datasetName: 'digits',
    name: 'nodes',
    out: jobDir,
  });
}, 120_000);
afterAll(() => {
  for (const pid of running) killTree(pid);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('a cluster job on two nodes over loopback', () => {
  it('two nodes of one worker each train to the same result as one node with two workers', async () => {
    const one = path.join(work, 'one-node');
    const two = path.join(work, 'two-nodes');
    let started = Date.now();
    const single = await launch(['--workers', '2', '--epochs', '2', '--out', one]);
    const tSingle = (Date.now() - started) / 1000;
    expect(single.code, single.output).toBe(0);
    const port = await freePort();
    const node = [
      '--workers',
      '1',
      '--epochs',
      '2',
      '--nnodes',
      '2',
      '--rdzv-endpoint',
      `127.0.0.1:${port}`,
      '--rdzv-id',
      'two-nodes',
      '--out',
      two,
    ];
    started = Date.now();
    const [a, b] = await Promise.all([launch(node), launch(node)]);
    const tTwo = (Date.now() - started) / 1000;
    expect(a.code, a.output).toBe(0);
    expect(b.code, b.output).toBe(0);
    // each node ran one of the two ranks
    const ranks = [a, b].map((l) => /\[rank (\d)\] rank \d of 2: pid/.exec(l.output)?.[1]).sort();
    expect(ranks).toEqual(['0', '1']);
    const [m1, m2] = [metricsOf(one), metricsOf(two)];
    expect(m2.map((r) => [r.epoch, r.world_size])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    const [w1, w2] = [weightsOf(one), weightsOf(two)];
    let d = 0;
    for (const [k, v] of w1) {
      const u = w2.get(k)!;
      expect(u.length).toBe(v.length);
      for (let i = 0; i < v.length; i++) d = Math.max(d, Math.abs(u[i] - v[i]));
    }
    console.log(
      `1 node × 2 workers (${tSingle.toFixed(1)} s): losses ${m1.map((r) => r.train_loss.toFixed(6)).join(' / ')}; ` +
        `2 nodes × 1 worker (${tTwo.toFixed(1)} s): ${m2.map((r) => r.train_loss.toFixed(6)).join(' / ')}; weights max abs diff ${d.toExponential(2)}`,
    );
    for (const [i, r] of m2.entries()) {
      expect(Math.abs(r.train_loss - m1[i].train_loss) / m1[i].train_loss).toBeLessThan(1e-5);
      expect(Math.abs(r.val_loss - m1[i].val_loss) / m1[i].val_loss).toBeLessThan(1e-5);
    }
    expect(d).toBeLessThan(1e-5);
  }, 600_000);

  /** One node's launch.sh arguments for the elastic tests: 1 worker, 3 epochs, one restart, 2 nodes over loopback. */
  const elasticNode = (out: string, port: number) => [
    '--workers',
    '1',
    '--epochs',
    '3',
    '--max-restarts',
    '1',
    '--nnodes',
    '2',
    '--rdzv-endpoint',
    `127.0.0.1:${port}`,
    '--rdzv-id',
    path.basename(out),
    '--out',
    out,
    '--',
    '--log-every',
    '1',
  ];

  // Ran opt-in until 2026-12-06: it hung when the node whose worker survived restarted it for the
  // peer's failure (membership change) and did not count the restart, so train.py's per-restart store
  // prefix differed between the nodes (docs/cluster.md, "Restarts on several nodes").
  it(
    'a worker killed mid-epoch: both nodes restart (--max-restarts 1) and continue from the last checkpoint',
    { timeout: 2 * ELASTIC_LIMIT_MS },
    async () => {
      const out = fs.mkdtempSync(path.join(work, 'killed-'));
      const node = elasticNode(out, await freePort());
      let pid: number | undefined;
      let killed = false;
      // rank 1's pid from its first line; killed when rank 0 reports the first batch of epoch 2
      const watch = (line: string) => {
        const p = /\[rank 1\] rank 1 of 2: pid (\d+)/.exec(line);
        if (p && !killed) pid = Number(p[1]);
        if (!killed && pid && /\[rank 0\] epoch 2\/\d+ batch 1\//.test(line)) {
          killed = true;
          process.kill(pid, 'SIGKILL');
        }
      };
      const started = Date.now();
      const [a, b] = await Promise.all([launch(node, watch, ELASTIC_LIMIT_MS), launch(node, watch, ELASTIC_LIMIT_MS)]);
      const all = a.output + b.output;
      console.log(`two nodes, rank 1 killed in epoch 2, restarted: ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(killed, all).toBe(true);
      expect(a.code, all).toBe(0);
      expect(b.code, all).toBe(0);
      expect(all).toMatch(/restart 1/);
      expect(all).toMatch(/resuming after epoch 1/);
      const m = metricsOf(out);
      expect(m.map((r) => r.epoch)).toEqual([1, 2, 3]);
      expect(m.map((r) => r.restart)).toEqual([0, 1, 1]);
      expect(m.every((r) => r.world_size === 2)).toBe(true);
    },
  );

  it(
    'a node killed mid-epoch (its agent and worker) and launched again: the job continues from the last checkpoint',
    { timeout: 2 * ELASTIC_LIMIT_MS },
    async () => {
      const out = fs.mkdtempSync(path.join(work, 'node-killed-'));
      const port = await freePort();
      const node = elasticNode(out, port);
      // node A hosts the rendezvous (it listens before B starts); B is the node that dies, as on a cluster
      // where the rendezvous endpoint's node stays up
      const nodeB: { pid?: number } = {};
      let killedAt = 0;
      let onKill = () => {};
      const killed = new Promise<void>((resolve) => (onKill = resolve));
      const watch = (line: string) => {
        if (!killedAt && nodeB.pid && /\[rank 0\] epoch 2\/\d+ batch 1\//.test(line)) {
          killedAt = Date.now();
          killTree(nodeB.pid);
          onKill();
        }
      };
      const started = Date.now();
      const a = start(node, watch, ELASTIC_LIMIT_MS);
      await listening(port);
      const b = start(node, watch, ELASTIC_LIMIT_MS);
      nodeB.pid = b.pid;
      await Promise.race([killed, a.done]);
      expect(killedAt, 'node B was killed in epoch 2').toBeGreaterThan(0);
      const first = await b.done;
      expect(first.code).toBeNull(); // killed
      // node A's worker fails (its peer is gone) before the new node B starts, as a replaced node would
      const workersOfA = descendants(a.pid).filter((p) => p !== a.pid);
      while (workersOfA.some(alive) && Date.now() - killedAt < 60_000) await new Promise((r) => setTimeout(r, 100));
      const again = start(node, undefined, ELASTIC_LIMIT_MS);
      const [ra, rb] = await Promise.all([a.done, again.done]);
      const all = ra.output + rb.output;
      console.log(
        `two nodes, node B killed in epoch 2 and launched again: ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      expect(ra.code, all).toBe(0);
      expect(rb.code, all).toBe(0);
      expect(all).toMatch(/resuming after epoch 1/);
      const m = metricsOf(out);
      expect(m.map((r) => r.epoch)).toEqual([1, 2, 3]);
      expect(m.map((r) => r.restart)).toEqual([0, 1, 1]); // node A's restart (the new node B starts at 0)
      expect(m.every((r) => r.world_size === 2)).toBe(true);
    },
  );
});
