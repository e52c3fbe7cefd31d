// Cluster jobs for real: PyTorch 2.13 (CPU) from the local pip index in a cached venv
// (test/helpers/pyenv.ts), torchrun with two processes over loopback (gloo), and the studio's
// real host and trainer process. No mocks:
//  - every model kind, and a conv model of three 5×5 stages: the studio's weights (a run's
//    checkpoint) go out to PyTorch and PyTorch's weights come back, each direction compared on the
//    same images (max abs diff < 1e-5);
//  - launch.sh --workers 2 trains a job exported from a studio run through the host (jobs:export,
//    --from-checkpoint): both ranks run, metrics.jsonl says world size 2, the loss falls and lands
//    near a studio run of the same config; jobs:import brings it back, the Gallery shows it;
//  - a worker SIGKILLed mid-epoch, then a relaunch, continues from the last checkpoint with no
//    epoch lost; torchrun's own restart (--max-restarts) does the same within one launch; the
//    interrupted job imported in between is Resumed by the studio;
//  - samples/s for 1 and 2 workers, printed (two shared cores do not scale: see README);
//  - a VAE's KL warm-up: the β train.py's training loop uses in epochs 1..3, and its objective on
//    fixed weights, batch and ε with that β, against the studio's schedule and objective.
// Never skipped: PyTorch comes from the local pip index like Keras and onnxruntime for the export
// tests; if it cannot be installed, the file fails with pip's reason.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildAutoencoder,
  klBetaAt,
  loadMnist,
  loadTrained,
  objective,
  trainRun,
  validateConfig,
  type Dataset,
} from '../../src-main/engine';
import { tf } from '../../src-main/engine/tf';
import { exportJob } from '../../src-main/cluster/export';
import { importJobAsRun } from '../../src-main/cluster/import';
import { createHost, type Host } from '../../src-main/host';
import type { Envelope, EventName, ExportRecord, RunStatusPayload, RunSummary } from '../../src-main/contract';
import { createTestSupervisor } from '../helpers/trainer';
import { TORCH_REQUIREMENTS, ensurePyEnv } from '../helpers/pyenv';
import { readNpy, writeNpy } from '../helpers/npy';

const here = path.dirname(fileURLToPath(import.meta.url));
const TOL = 1e-5;

// Made (or taken from the cache) when the file loads: it can take a minute the first time, longer than a hook may.
const env = ensurePyEnv(TORCH_REQUIREMENTS);

let work: string;
const mnist = loadMnist(1000, { seed: 4 });
const mnistSubset = (from: number, n: number): Dataset => ({
  images: mnist.images.subarray(from * 784, (from + n) * 784),
  labels: mnist.labels?.subarray(from, from + n),
  count: n,
  shape: [28, 28, 1],
});
/** Colour images (16×16×3) so that channel orders matter: smooth random blobs. */
function rgb(n: number, seed: number): Dataset {
  const images = new Uint8Array(n * 16 * 16 * 3);
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < n; i++) {
    const [cx, cy, r] = [rand() * 16, rand() * 16, 2 + rand() * 5];
    const col = [rand(), rand(), rand()];
    for (let y = 0; y < 16; y++)
      for (let x = 0; x < 16; x++)
        for (let c = 0; c < 3; c++)
          images[((i * 16 + y) * 16 + x) * 3 + c] = Math.round(
            255 * col[c] * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (r * r)),
          );
  }
  return { images, labels: new Int32Array(n), count: n, shape: [16, 16, 3] };
}
const floats = (d: Dataset, n: number) =>
  Float32Array.from(d.images.subarray(0, n * d.shape[0] * d.shape[1] * d.shape[2]), (v) => v / 255);

const maxAbsDiff = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** Runs the reference helper (one Python process for all the jobs given). */
function reference(items: Array<{ dir: string; steps: string[][] }>) {
  const r = spawnSync(env.python, [path.join(here, 'py', 'job_reference.py'), JSON.stringify(items)], {
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  if (r.status !== 0) throw new Error(`job_reference.py failed (${r.status ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

interface Launch {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/**
 * Runs launch.sh (torchrun) to the end. `onLine` sees every output line as it comes (e.g. to kill a
 * worker at the right moment).
 */
function launch(jobDir: string, args: string[], onLine?: (line: string) => void, timeoutMs = 300_000): Promise<Launch> {
  return new Promise((resolve, reject) => {
    // one thread per process (torchrun does that itself for several workers, not for one): 1 vs 2
    // workers then compares processes, not a 2-thread process fighting for the shared cores
    const child = spawn(path.join(jobDir, 'launch.sh'), args, {
      env: { ...process.env, PYTHON: env.python, OMP_NUM_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
      child.kill('SIGKILL');
      reject(new Error(`launch.sh ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

const metricsOf = (jobDir: string) =>
  fs
    .readFileSync(path.join(jobDir, 'out', 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(
      (l) =>
        JSON.parse(l) as {
          epoch: number;
          train_loss: number;
          val_loss: number | null;
          samples_per_sec: number;
          world_size: number;
          restart: number;
        },
    );
const stateOf = (jobDir: string) =>
  JSON.parse(fs.readFileSync(path.join(jobDir, 'out', 'checkpoint', 'state.json'), 'utf8')) as { epochsDone: number };

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-cluster-'));
});
afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('cluster jobs: weights round trip without training, every kind (and a 3-stage 5×5 conv)', () => {
  // Each trained one epoch in the studio (so the job continues a real checkpoint with optimizer state).
  const KINDS = {
    dense: { config: { kind: 'dense', latentDim: 12, hidden: [24] }, data: () => rgb(160, 1) },
    'deep-dense': {
      config: { kind: 'deep-dense', latentDim: 8, hidden: [48, 24], activation: 'tanh', optimizer: 'rmsprop' },
      data: () => mnistSubset(0, 160),
    },
    conv: { config: { kind: 'conv', latentDim: 8, hidden: [4, 8], activation: 'leaky-relu' }, data: () => rgb(160, 2) },
    vae: {
      config: { kind: 'vae', latentDim: 4, hidden: [32], activation: 'elu', loss: 'bce' },
      data: () => rgb(160, 3),
    },
    'conv-vae': {
      config: {
        kind: 'conv-vae',
        latentDim: 4,
        hidden: [4, 8],
        activation: 'sigmoid',
        loss: 'bce',
        noise: { type: 'gaussian', level: 0.2 },
      },
      data: () => mnistSubset(0, 160),
    },
    sparse: {
      config: { kind: 'sparse', latentDim: 16, optimizer: 'sgd', momentum: 0.9, learningRate: 0.05 },
      data: () => mnistSubset(0, 160),
    },
    // deeper pictures: three stride-2 stages of 5×5 kernels (TensorFlow's 'same' padding is 1 before, 2 after)
    'conv-3stage-5x5': {
      config: { kind: 'conv', latentDim: 8, hidden: [4, 8, 8], kernelSize: 5 },
      data: () => rgb(160, 4),
    },
  } as const;
  type Kind = keyof typeof KINDS;
  const jobs = new Map<Kind, { runDir: string; jobDir: string; importDir: string; probe: string; data: Dataset }>();

  beforeAll(async () => {
    const items: Array<{ dir: string; steps: string[][] }> = [];
    for (const [kind, spec] of Object.entries(KINDS) as Array<[Kind, (typeof KINDS)[Kind]]>) {
      const data = spec.data();
      const runDir = path.join(work, 'rt', kind, 'run');
      const r = await trainRun({
        config: { ...spec.config, inputShape: data.shape, epochs: 1, batchSize: 32, seed: 9 },
        dataset: data,
        runDir,
      });
      expect(r.status, r.message).toBe('completed');
      const jobDir = path.join(work, 'rt', kind, 'job');
      await exportJob({
        config: JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')),
        dataset: data,
        datasetSpec: null,
        datasetName: kind,
        name: kind,
        checkpointDir: path.join(runDir, 'checkpoint'),
        out: jobDir,
      });
      const probe = path.join(jobDir, 'probe.npy');
      writeNpy(probe, floats(data, 12), [12, ...data.shape]);
      jobs.set(kind, { runDir, jobDir, importDir: path.join(work, 'rt', kind, 'imported'), probe, data });
      items.push({
        dir: jobDir,
        steps: [
          ['predict', probe, path.join(jobDir, 'ref-init')],
          ['train', '1'],
          ['predict', probe, path.join(jobDir, 'ref-trained')],
        ],
      });
    }
    const started = Date.now();
    reference(items);
    console.log(
      `reference outputs of ${items.length} jobs (one epoch each, one process): ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 600_000);

  for (const kind of Object.keys(KINDS) as Kind[]) {
    it(`${kind}: the studio's weights in PyTorch, and PyTorch's weights back in the studio, give the same outputs`, async () => {
      const j = jobs.get(kind)!;
      const probe = readNpy(j.probe).data;
      // studio → PyTorch: the run's checkpoint (= its model after one epoch) in train.py
      const studio = await loadTrained(j.runDir);
      try {
        const dRec = maxAbsDiff(
          studio.reconstruct(probe),
          readNpy(path.join(j.jobDir, 'ref-init', 'reconstruction.npy')).data,
        );
        const dCode = maxAbsDiff(studio.encode(probe), readNpy(path.join(j.jobDir, 'ref-init', 'code.npy')).data);
        console.log(
          `${kind}: studio → PyTorch max abs diff: reconstruction ${dRec.toExponential(2)}, code ${dCode.toExponential(2)}`,
        );
        expect(dRec).toBeLessThan(TOL);
        expect(dCode).toBeLessThan(TOL);
      } finally {
        studio.dispose();
      }
      // PyTorch → studio: one epoch trained by train.py, imported without Python
      const imp = await importJobAsRun(j.jobDir, j.importDir);
      expect(imp.epochsDone).toBe(2);
      expect(imp.history.loss).toHaveLength(2);
      const back = await loadTrained(j.importDir);
      try {
        const dRec = maxAbsDiff(
          back.reconstruct(probe),
          readNpy(path.join(j.jobDir, 'ref-trained', 'reconstruction.npy')).data,
        );
        const dCode = maxAbsDiff(back.encode(probe), readNpy(path.join(j.jobDir, 'ref-trained', 'code.npy')).data);
        console.log(
          `${kind}: PyTorch → studio max abs diff: reconstruction ${dRec.toExponential(2)}, code ${dCode.toExponential(2)}`,
        );
        expect(dRec).toBeLessThan(TOL);
        expect(dCode).toBeLessThan(TOL);
        // and it trained: the weights moved away from the checkpoint it started from
        expect(
          maxAbsDiff(
            readNpy(path.join(j.jobDir, 'ref-init', 'reconstruction.npy')).data,
            readNpy(path.join(j.jobDir, 'ref-trained', 'reconstruction.npy')).data,
          ),
        ).toBeGreaterThan(1e-4);
      } finally {
        back.dispose();
      }
    });
  }

  it('the imported checkpoint (weights + optimizer state in tfjs format) resumes in the studio', async () => {
    const j = jobs.get('conv')!;
    const config = { ...JSON.parse(fs.readFileSync(path.join(j.importDir, 'config.json'), 'utf8')), epochs: 3 };
    const r = await trainRun({ config, dataset: j.data, runDir: j.importDir, resume: true });
    expect(r.status, r.message).toBe('completed');
    expect(r.epochsDone).toBe(3);
    expect(r.history.loss).toHaveLength(3);
  });
});

describe('cluster jobs: KL warm-up', () => {
  it("train.py's β schedule is the studio's: the β its training loop uses in epochs 1..3, and its objective on fixed weights, batch and ε", async () => {
    const started = Date.now();
    const data = rgb(96, 5);
    const input = {
      kind: 'vae',
      inputShape: data.shape,
      latentDim: 12,
      hidden: [32],
      beta: 8,
      klWarmupEpochs: 2,
      epochs: 3,
      batchSize: 32,
      seed: 13,
    };
    const checked = validateConfig(input, { count: data.count, shape: data.shape });
    if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
    const c = checked.config;
    const jobDir = path.join(work, 'kl-warmup');
    // no checkpoint: the job starts at epoch 1 from the studio's own initial weights for the config
    await exportJob({
      config: input,
      dataset: data,
      datasetSpec: null,
      datasetName: 'blobs',
      name: 'kl-warmup',
      out: jobDir,
    });

    // the fixed batch and ε, and the studio's objective on them with its β of each epoch
    const n = 16;
    const seed = 77;
    const batch = floats(data, n);
    const epochs = [1, 2, 3];
    const ae = buildAutoencoder(c);
    const studio = tf.tidy(() => {
      const x = tf.tensor(batch, [n, ...data.shape]);
      // the ε the studio's objective draws for this seed
      writeNpy(
        path.join(jobDir, 'eps.npy'),
        tf.randomNormal([n, c.latentDim], 0, 1, 'float32', seed).dataSync() as Float32Array,
        [n, c.latentDim],
      );
      return epochs.map((e) => ({
        beta: klBetaAt(c, e),
        loss: objective(ae, { ...c, beta: klBetaAt(c, e) }, x, x, seed).dataSync()[0],
      }));
    });
    ae.encoder.dispose();
    ae.decoder.dispose();
    writeNpy(path.join(jobDir, 'batch.npy'), batch, [n, ...data.shape]);

    const result = path.join(work, 'kl-warmup.json');
    const r = spawnSync(
      env.python,
      [
        path.join(here, 'py', 'job_kl_warmup.py'),
        jobDir,
        String(epochs.length),
        path.join(jobDir, 'batch.npy'),
        path.join(jobDir, 'eps.npy'),
        result,
      ],
      {
        encoding: 'utf8',
        timeout: 300_000,
        env: { ...process.env, OMP_NUM_THREADS: '1' },
      },
    );
    if (r.status !== 0) throw new Error(`job_kl_warmup.py failed (${r.status ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
    const torch = (
      JSON.parse(fs.readFileSync(result, 'utf8')) as {
        epochs: Array<{
          epoch: number;
          loopBetas: number[];
          objectiveCalls: number;
          klBeta: number;
          loss: number | null;
        }>;
      }
    ).epochs;
    console.log(
      `KL warm-up (β 8 over 2 epochs), per epoch — studio β ${studio.map((s) => s.beta).join(' / ')}, train.py β ${torch.map((t) => t.loopBetas.join('|')).join(' / ')}; ` +
        `objective studio ${studio.map((s) => s.loss.toFixed(6)).join(' / ')}, PyTorch ${torch.map((t) => t.loss?.toFixed(6)).join(' / ')} (max relative diff ${Math.max(...torch.map((t, i) => Math.abs(t.loss! - studio[i].loss) / studio[i].loss)).toExponential(2)}; ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );

    // the schedule really anneals here (0, β/2, β), so a shifted or missing warm-up shows
    expect(studio.map((s) => s.beta)).toEqual([0, 4, 8]);
    expect(torch.map((t) => t.epoch)).toEqual(epochs);
    for (const [i, t] of torch.entries()) {
      // every batch of the epoch (training and validation) with one β: the studio's for that epoch
      expect(t.objectiveCalls).toBeGreaterThan(0);
      expect(t.loopBetas).toHaveLength(1);
      expect(t.loopBetas[0]).toBeCloseTo(studio[i].beta, 12);
      expect(t.klBeta).toBeCloseTo(studio[i].beta, 12);
      expect(Math.abs(t.loss! - studio[i].loss) / studio[i].loss).toBeLessThan(1e-5);
    }
    // and the KL term is large enough for a wrong β to show in the objective (well above 1e-5 of it)
    expect((studio[1].loss - studio[0].loss) / studio[0].loss).toBeGreaterThan(1e-3);
    // the KL part alone (β/2 and β against β = 0) agrees too
    for (const i of [1, 2]) {
      const [kS, kT] = [studio[i].loss - studio[0].loss, torch[i].loss! - torch[0].loss!];
      expect(Math.abs(kT - kS) / kS).toBeLessThan(1e-3);
    }
  }, 300_000);
});

describe('cluster jobs: torchrun with two workers, through the host', () => {
  let host: Host;
  let ws: string;
  let events: Array<[EventName, unknown]>;
  const ok = <T>(e: Envelope): T => {
    expect(e.ok, JSON.stringify(e)).toBe(true);
    return (e as { ok: true; result: T }).result;
  };
  const call = <T>(name: string, payload: unknown = {}) => host.dispatch(name, payload).then((e) => ok<T>(e));
  const waitStatus = (runId: string, status: RunStatusPayload['status'], timeoutMs = 180_000) =>
    new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const tick = () => {
        if (
          events.some(
            ([n, p]) =>
              n === 'runs:status' &&
              (p as RunStatusPayload).runId === runId &&
              (p as RunStatusPayload).status === status,
          )
        )
          return resolve();
        if (Date.now() - started > timeoutMs) return reject(new Error(`run ${runId} never became ${status}`));
        setTimeout(tick, 50);
      };
      tick();
    });

  // dense on 400 MNIST digits; the job continues the studio's run after its first epoch
  const denseConfig = {
    kind: 'dense',
    inputShape: [28, 28, 1],
    latentDim: 16,
    hidden: [64],
    batchSize: 32,
    epochs: 1,
    seed: 3,
    previewEvery: 1000,
  };
  let runId: string;
  let jobDir: string;
  let twoWorkers: Launch;

  beforeAll(async () => {
    ws = path.join(work, 'ws');
    host = createHost({ mode: 'serve', version: 'test', trainer: createTestSupervisor(), workspaceDir: ws });
    events = [];
    host.subscribe((name, payload) => events.push([name, payload]));
    runId = (
      await call<{ runId: string }>('runs:start', { config: denseConfig, dataset: { builtin: 'mnist', count: 400 } })
    ).runId;
    await waitStatus(runId, 'completed');
  }, 300_000);
  afterAll(async () => {
    await host?.dispose();
  });

  it('jobs:export writes the job folder into exports/, continuing the run from its checkpoint', async () => {
    const rec = await call<ExportRecord>('jobs:export', { runId, fromCheckpoint: true });
    expect(rec).toMatchObject({ runId, kind: 'job', format: 'torch', fileName: `${runId}-torch-job` });
    expect(rec.files).toEqual(
      expect.arrayContaining([
        `${rec.fileName}/train.py`,
        `${rec.fileName}/launch.sh`,
        `${rec.fileName}/slurm.sbatch`,
        `${rec.fileName}/README.md`,
        `${rec.fileName}/requirements.txt`,
        `${rec.fileName}/job.json`,
        `${rec.fileName}/data/dataset.safetensors`,
        `${rec.fileName}/init/model.safetensors`,
        `${rec.fileName}/init/optimizer.safetensors`,
      ]),
    );
    jobDir = path.join(ws, 'exports', rec.exportId, rec.fileName);
    const job = JSON.parse(fs.readFileSync(path.join(jobDir, 'job.json'), 'utf8'));
    expect(job).toMatchObject({
      startEpoch: 1,
      epochs: 1,
      source: { runId, fromCheckpoint: true, dataset: { builtin: 'mnist', count: 400 } },
      dataset: { count: 400, train: 360, val: 40 },
    });
    expect(job.history.loss).toHaveLength(1);
    expect((await call<ExportRecord[]>('export:list', {})).map((e) => e.exportId)).toContain(rec.exportId);
  });

  it('launch.sh --workers 2 trains two epochs on two processes over loopback; the loss falls', async () => {
    const started = Date.now();
    twoWorkers = await launch(jobDir, ['--workers', '2', '--epochs', '2']);
    console.log(`launch.sh --workers 2 --epochs 2: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(twoWorkers.code, twoWorkers.output).toBe(0);
    expect(twoWorkers.output).toMatch(/\[rank 0\] rank 0 of 2: pid \d+/);
    expect(twoWorkers.output).toMatch(/\[rank 1\] rank 1 of 2: pid \d+/);
    const m = metricsOf(jobDir);
    expect(m.map((r) => r.epoch)).toEqual([2, 3]);
    expect(m.every((r) => r.world_size === 2 && r.samples_per_sec > 0 && r.val_loss !== null)).toBe(true);
    const job = JSON.parse(fs.readFileSync(path.join(jobDir, 'job.json'), 'utf8'));
    // the studio's epoch 1, then the cluster's epochs 2 and 3: falling
    const losses = [job.history.loss[0], ...m.map((r) => r.train_loss)];
    expect(losses[1]).toBeLessThan(losses[0]);
    expect(losses[2]).toBeLessThan(losses[1]);
    expect(m[1].val_loss!).toBeLessThan(m[0].val_loss!);
  }, 300_000);

  it('lands within 10 % of a studio run of the same config (3 epochs in all)', async () => {
    const m = metricsOf(jobDir);
    const studio = await trainRun({
      config: { ...denseConfig, epochs: 3 },
      dataset: { ...loadMnist(400, { seed: 1 }) },
      runDir: path.join(work, 'studio-dense'),
    });
    expect(studio.status).toBe('completed');
    const [jobLoss, jobVal] = [m[1].train_loss, m[1].val_loss!];
    const [stLoss, stVal] = [studio.history.loss[2], studio.history.valLoss[2]!];
    console.log(
      `after 3 epochs — studio: loss ${stLoss.toFixed(5)}, validation ${stVal.toFixed(5)}; studio 1 + PyTorch DDP 2×16 for 2: loss ${jobLoss.toFixed(5)}, validation ${jobVal.toFixed(5)}`,
    );
    expect(Math.abs(jobLoss - stLoss) / stLoss).toBeLessThan(0.1);
    expect(Math.abs(jobVal - stVal) / stVal).toBeLessThan(0.1);
  }, 120_000);

  it('jobs:import brings it back: the runs table lists it with its curves, the Gallery shows it, tfjs matches PyTorch', async () => {
    const { runId: imported } = await call<{ cancelled: boolean; runId: string }>('jobs:import', { path: jobDir });
    const list = await call<RunSummary[]>('runs:list');
    const run = list.find((r) => r.runId === imported)!;
    expect(run).toMatchObject({ status: 'completed', epochsDone: 3, dataset: { builtin: 'mnist', count: 400 } });
    expect(run.history.loss).toHaveLength(3);
    expect(run.cluster?.epochs.map((e) => [e.epoch, e.worldSize])).toEqual([
      [2, 2],
      [3, 2],
    ]);
    expect(run.cluster?.startEpoch).toBe(1);
    const triplets = await call<{ originals: string[]; reconstructions: string[] }>('gallery:triplets', {
      runId: imported,
      count: 4,
    });
    expect(triplets.reconstructions).toHaveLength(4);
    // the imported model in tfjs against PyTorch on the same digits
    const probe = path.join(work, 'dense-probe.npy');
    writeNpy(probe, floats(loadMnist(400, { seed: 1 }), 10), [10, 28, 28, 1]);
    reference([{ dir: jobDir, steps: [['predict', probe, path.join(work, 'dense-ref')]] }]);
    const t = await loadTrained(path.join(ws, 'runs', imported));
    try {
      const d = maxAbsDiff(
        t.reconstruct(readNpy(probe).data),
        readNpy(path.join(work, 'dense-ref', 'reconstruction.npy')).data,
      );
      console.log(`dense after DDP: tfjs vs PyTorch max abs diff ${d.toExponential(2)}`);
      expect(d).toBeLessThan(TOL);
    } finally {
      t.dispose();
    }
  }, 120_000);

  it('samples/s with 1 and 2 workers (reported; two shared cores do not scale)', async () => {
    const one = await launch(jobDir, ['--workers', '1', '--epochs', '2', '--out', path.join(work, 'one-worker')]);
    expect(one.code, one.output).toBe(0);
    const rate = (file: string) =>
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { samples_per_sec: number; world_size: number });
    const r1 = rate(path.join(work, 'one-worker', 'metrics.jsonl'));
    const r2 = metricsOf(jobDir);
    expect(r1.every((r) => r.world_size === 1)).toBe(true);
    console.log(
      `samples/s, dense on 360 digits (epoch 1 / epoch 2 of the job): 1 worker ${r1.map((r) => Math.round(r.samples_per_sec)).join(' / ')}; 2 workers ${r2.map((r) => Math.round(r.samples_per_sec)).join(' / ')} (${os.cpus().length} cores, shared)`,
    );
  }, 300_000);

  describe('a worker killed mid-epoch', () => {
    let killJob: string;
    beforeAll(async () => {
      // conv on 800 digits with a small batch: an epoch is many short steps, so "mid-epoch" is wide
      const data = mnistSubset(0, 800);
      killJob = path.join(work, 'kill-job');
      await exportJob({
        config: {
          kind: 'conv',
          inputShape: [28, 28, 1],
          latentDim: 8,
          hidden: [4, 8],
          batchSize: 8,
          epochs: 2,
          seed: 7,
        },
        dataset: data,
        labelNames: [...'0123456789'],
        datasetSpec: null,
        datasetName: 'digits',
        name: 'kill-test',
        out: killJob,
      });
    }, 120_000);

    /** Kills rank 1 (SIGKILL) when rank 0 reports the first batch of `epoch`; resolves with the launch. */
    const launchAndKill = (args: string[], epoch: number) => {
      let pid: number | undefined;
      let killed = false;
      return launch(killJob, [...args, '--', '--log-every', '1'], (line) => {
        const p = /\[rank 1\] rank 1 of 2: pid (\d+)/.exec(line);
        if (p) pid = Number(p[1]);
        if (!killed && pid && new RegExp(`\\[rank 0\\] epoch ${epoch}/\\d+ batch 1/`).test(line)) {
          killed = true;
          process.kill(pid, 'SIGKILL');
        }
      }).then((l) => {
        expect(killed, `rank 1 was never killed:\n${l.output}`).toBe(true);
        return l;
      });
    };

    it('the launch fails, the checkpoint stays at the last finished epoch; the studio imports and Resumes it', async () => {
      const l = await launchAndKill(['--workers', '2', '--epochs', '2', '--max-restarts', '0'], 2);
      expect(l.code, l.output).not.toBe(0);
      expect(stateOf(killJob).epochsDone).toBe(1);
      expect(metricsOf(killJob).map((r) => r.epoch)).toEqual([1]);
      // brought back as it is: stopped after epoch 1 of 2; Resume trains epoch 2 in the studio
      const { runId: imported } = await call<{ runId: string }>('jobs:import', { path: killJob });
      const run = (await call<RunSummary[]>('runs:list')).find((r) => r.runId === imported)!;
      expect(run).toMatchObject({ status: 'stopped', epochsDone: 1 });
      expect(run.message).toMatch(/stopped after epoch 1 of 2; Resume continues it here/);
      expect(run.message).toMatch(/added to the workspace as dataset/);
      await call('runs:resume', { runId: imported });
      await waitStatus(imported, 'completed');
      const after = (await call<RunSummary[]>('runs:list')).find((r) => r.runId === imported)!;
      expect(after.epochsDone).toBe(2);
      expect(after.history.loss).toHaveLength(2);
      expect(after.history.loss[0]).toBe(run.history.loss[0]);
    }, 300_000);

    it('a relaunch continues after the last checkpoint: no epoch lost, none repeated', async () => {
      const before = fs.readFileSync(path.join(killJob, 'out', 'metrics.jsonl'), 'utf8');
      const l = await launch(killJob, ['--workers', '2', '--epochs', '2']);
      expect(l.code, l.output).toBe(0);
      expect(l.output).toMatch(/resuming after epoch 1/);
      const m = metricsOf(killJob);
      expect(m.map((r) => r.epoch)).toEqual([1, 2]);
      expect(fs.readFileSync(path.join(killJob, 'out', 'metrics.jsonl'), 'utf8').startsWith(before)).toBe(true);
      expect(stateOf(killJob).epochsDone).toBe(2);
    }, 300_000);

    it("torchrun's own restart (--max-restarts 1) continues from the checkpoint within the same launch", async () => {
      const l = await launchAndKill(['--workers', '2', '--epochs', '3', '--max-restarts', '1'], 3);
      expect(l.code, l.output).toBe(0);
      expect(l.output).toMatch(/restart 1/);
      const m = metricsOf(killJob);
      expect(m.map((r) => r.epoch)).toEqual([1, 2, 3]);
      expect(m[2]).toMatchObject({ restart: 1, world_size: 2 });
    }, 300_000);
  });
});
