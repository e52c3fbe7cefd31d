// Cluster jobs train every option the studio trains, each compared with the studio on the same
// seed, batch and parameters (PyTorch 2.13 CPU from the local pip index, test/helpers/pyenv.ts;
// the job folder's own train.py loaded as a module by py/job_parity.py):
//  - augmentation: train.py's port of the studio's generator (mulberry32) and transforms gives the
//    same source pixel for every output pixel and the same gains as engine/augment.ts, and the same
//    augmented pixels for a worker's rows of a global batch; its training loop seeds each step as
//    the studio does (seed · 7919 + step), so a relaunch repeats them;
//  - class-balanced sampling: train.py's order is the studio's balancedOrder for the same seed, and
//    its sampler shares each global batch out over the workers (their draws together are the
//    studio's order: the balance holds across all workers, not per worker);
//  - left-out labels and a test split: the job's split is the studio's (RunImages.plan), left-out
//    labels are in neither training nor validation, the test split is measured once at the end
//    (out/done.json) and the imported run carries the studio's end-of-run metrics, whose test
//    objective and MSE agree with train.py's;
//  - the SSIM objectives: train.py's objective ('ssim', 'l2+ssim') on the job's initial weights and a
//    fixed batch (clean and noisy input) is the studio's, and an l2+ssim job's test-split objective is
//    what the studio measures on the imported model;
//  - a loss train.py does not know is refused in plain words;
//  - `ae-studio job watch --import` follows a real launch.sh epoch by epoch, then imports the job.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  balancedOrder,
  buildAutoencoder,
  loadMnist,
  trainRun,
  validateConfig,
  type Dataset,
} from '../../src-main/engine';
import { objective } from '../../src-main/engine/train';
import { augmentBatch, augmentIndices } from '../../src-main/engine/augment';
import { RunImages } from '../../src-main/engine/run/images';
import { tf } from '../../src-main/engine/tf';
import { exportJob } from '../../src-main/cluster/export';
import { importJobAsRun } from '../../src-main/cluster/import';
import { TORCH_REQUIREMENTS, ensurePyEnv } from '../helpers/pyenv';
import { readNpy, writeNpy } from '../helpers/npy';
import { main as cli } from '../../src-main/cli/main';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = ensurePyEnv(TORCH_REQUIREMENTS);
let work: string;

/** Runs py/job_parity.py on a job folder with named requests; resolves with its named results. */
function parity<T = Record<string, unknown>>(jobDir: string, requests: Record<string, unknown>): Record<string, T> {
  const req = path.join(work, `req-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const res = `${req}.out.json`;
  fs.writeFileSync(req, JSON.stringify(requests));
  const r = spawnSync(env.python, [path.join(here, 'py', 'job_parity.py'), jobDir, req, res], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  if (r.status !== 0) throw new Error(`job_parity.py failed (${r.status ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(fs.readFileSync(res, 'utf8')) as Record<string, T>;
}

const mnist = loadMnist(600, { seed: 4 });
const digits = (n: number): Dataset => ({
  images: mnist.images.subarray(0, n * 784),
  labels: mnist.labels?.subarray(0, n),
  count: n,
  shape: [28, 28, 1],
});
/** Colour pictures (12×10×3, not square, so rows and columns cannot be swapped unseen). */
function colour(n: number): Dataset {
  const images = new Uint8Array(n * 12 * 10 * 3);
  let s = 17;
  for (let i = 0; i < images.length; i++) images[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return { images, labels: new Int32Array(n), count: n, shape: [12, 10, 3] };
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-cluster-parity-'));
});
afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('cluster job parity with the studio', () => {
  // one job folder with every option on: left-out label 3, a test split, balanced classes, augmentation
  const AUG = { flip: true, shift: 0.15, rotate: 20, brightness: 0.3 };
  const input = {
    kind: 'dense',
    inputShape: [28, 28, 1],
    latentDim: 8,
    hidden: [32],
    epochs: 2,
    batchSize: 32,
    seed: 11,
    validationSplit: 0.1,
    testSplit: 0.2,
    excludeLabels: [3],
    balanceClasses: true,
    augment: AUG,
  };
  const data = digits(600);
  let jobDir: string;

  beforeAll(async () => {
    jobDir = path.join(work, 'job');
    await exportJob({
      config: input,
      dataset: data,
      labelNames: [...'0123456789'],
      datasetSpec: null,
      datasetName: 'digits',
      name: 'parity',
      out: jobDir,
    });
  }, 120_000);

  it('augmentation: the same source pixels, gains and augmented pixels as engine/augment.ts for the same seed', () => {
    const cases = [
      { n: 7, h: 12, w: 10, a: AUG, seed: 11 * 7919 + 5 },
      { n: 5, h: 28, w: 28, a: { flip: false, shift: 0.3, rotate: 45, brightness: 0 }, seed: 123456789 },
      { n: 4, h: 9, w: 16, a: { flip: true, shift: 0, rotate: 0, brightness: 0.5 }, seed: 2 ** 32 + 77 },
    ];
    const ds = colour(8);
    const batchFile = path.join(work, 'aug-batch.npy');
    const x = Float32Array.from(ds.images, (v) => v / 255);
    writeNpy(batchFile, x, [8, 12, 10, 3]);
    const seed = 11 * 7919 + 9;
    const res = parity<{ indices: number[]; gains: number[] }>(jobDir, {
      ...Object.fromEntries(cases.map((c, i) => [`i${i}`, { op: 'augment-indices', ...c }])),
      // a worker of a 2-worker job: rows 4..7 of the global batch of 8
      px: { op: 'augment-pixels', batch: batchFile, a: AUG, seed, rows: [4, 4], out: path.join(work, 'aug-px.npy') },
    });
    cases.forEach((c, i) => {
      const studio = augmentIndices(c.n, c.h, c.w, c.a, c.seed);
      const job = res[`i${i}`];
      let differ = 0;
      for (let k = 0; k < studio.indices.length; k++) if (studio.indices[k] !== job.indices[k]) differ++;
      expect(job.indices).toHaveLength(studio.indices.length);
      expect(differ, `case ${i}: ${differ} of ${studio.indices.length} source pixels differ`).toBe(0);
      expect(job.gains.map((g) => Math.fround(g))).toEqual([...studio.gains]);
      // and the transforms really move pixels (a no-op port would pass the comparison above only by luck)
      expect(studio.indices.some((v, k) => v !== k)).toBe(true);
    });
    const studioPx = tf.tidy(
      () =>
        augmentBatch(tf.tensor4d(x, [8, 12, 10, 3]), AUG, seed)
          .slice([4, 0, 0, 0], [4, 12, 10, 3])
          .dataSync() as Float32Array,
    );
    const jobPx = readNpy(path.join(work, 'aug-px.npy')).data;
    expect(jobPx.length).toBe(studioPx.length);
    let m = 0;
    for (let i = 0; i < jobPx.length; i++) m = Math.max(m, Math.abs(jobPx[i] - studioPx[i]));
    console.log(
      `augmentation: ${cases.length} seeds × every pixel the same source; worker rows 4..7 of 8, max abs pixel diff ${m.toExponential(2)}`,
    );
    expect(m).toBeLessThan(1e-6);
  }, 120_000);

  it("class-balanced sampling: the studio's balanced order, shared out over all workers in global batches", () => {
    const labels = Int32Array.from({ length: 203 }, (_, i) => (i % 10 === 0 ? 1 : i % 37 === 0 ? 2 : 0)); // 0 common, 1 rare, 2 rarer
    const world = 2;
    const perRank = 16;
    const res = parity<{ order: number[]; ranks: number[][] }>(jobDir, {
      b: { op: 'balanced', labels: [...labels], seed: 11 + 3, world, perRank },
    });
    const studio = [...balancedOrder(labels, 11 + 3)];
    expect(res.b.order).toEqual(studio);
    // the workers' draws, batch by batch, put together are the studio's order (the last batch wraps to
    // give each worker as many draws)
    const g = perRank * world;
    const together: number[] = [];
    const full = Math.floor(labels.length / g);
    for (let b = 0; b < full; b++)
      for (let r = 0; r < world; r++) together.push(...res.b.ranks[r].slice(b * perRank, (b + 1) * perRank));
    const k = Math.ceil((labels.length - full * g) / world);
    for (let r = 0; r < world; r++) together.push(...res.b.ranks[r].slice(full * perRank, full * perRank + k));
    expect(res.b.ranks.map((r) => r.length)).toEqual([full * perRank + k, full * perRank + k]);
    expect(together.slice(0, labels.length)).toEqual(studio);
    // balanced across all workers: each label drawn about a third of the time
    const counts = [0, 0, 0];
    for (const i of together.slice(0, labels.length)) counts[labels[i]]++;
    console.log(
      `balanced order of 203 (labels 0/1/2: ${[0, 1, 2].map((l) => labels.filter((v) => v === l).length).join('/')}), drawn over 2 workers: ${counts.join('/')}`,
    );
    for (const c of counts) expect(Math.abs(c / labels.length - 1 / 3)).toBeLessThan(0.1);
  }, 120_000);

  it("left-out labels and a test split: the studio's split; train.py measures the test split at the end; the imported run has the studio's metrics", async () => {
    const job = JSON.parse(fs.readFileSync(path.join(jobDir, 'job.json'), 'utf8'));
    const checked = validateConfig(input, { count: data.count, shape: data.shape });
    if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
    const plan = RunImages.plan(checked.config, data);
    if (typeof plan === 'string') throw new Error(plan);
    expect(job.dataset).toMatchObject({
      count: 600,
      train: plan.split.train.length,
      val: plan.split.val.length,
      test: 120,
    });
    const labels = data.labels!;
    expect([...plan.split.train, ...plan.split.val].some((i) => labels[i] === 3)).toBe(false);
    expect([...plan.split.test].some((i) => labels[i] === 3)).toBe(true);

    // two epochs in one process, recording the augmentation of every step
    const started = Date.now();
    const res = parity<{ augmentCalls: Array<{ seed: number; nGlobal: number; firstRow: number; rows: number }> }>(
      jobDir,
      { t: { op: 'train', epochs: 2 } },
    );
    const calls = res.t.augmentCalls;
    const batches = Math.ceil(plan.split.train.length / 32);
    expect(calls).toHaveLength(2 * batches);
    // the studio's seed of each step (epoch.ts: seed · 7919 + step), the whole global batch on one worker
    expect(calls.map((c) => c.seed)).toEqual(calls.map((_, step) => 11 * 7919 + step));
    expect(calls.every((c) => c.firstRow === 0 && c.nGlobal === c.rows)).toBe(true);
    const done = JSON.parse(fs.readFileSync(path.join(jobDir, 'out', 'done.json'), 'utf8'));
    expect(done.test).toMatchObject({ count: 120 });
    expect(done.test.perLabel.map((p: { label: number }) => p.label)).toContain(3);

    const tensorsBefore = tf.memory().numTensors;
    const imp = await importJobAsRun(jobDir, path.join(work, 'imported'));
    expect(tf.memory().numTensors).toBe(tensorsBefore); // measuring every split disposes what it made
    expect(imp.status).toBe('completed');
    const t = imp.metrics?.test;
    expect(t?.count).toBe(120);
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    console.log(
      `test split of 120 after 2 epochs (${((Date.now() - started) / 1000).toFixed(1)} s): train.py loss ${done.test.loss.toFixed(6)} MSE ${done.test.mse.toFixed(6)}, ` +
        `studio on the imported model loss ${t!.loss.toFixed(6)} MSE ${t!.mse.toFixed(6)} (relative diff ${rel(done.test.loss, t!.loss).toExponential(2)})`,
    );
    expect(rel(done.test.loss, t!.loss)).toBeLessThan(1e-4);
    expect(rel(done.test.mse, t!.mse)).toBeLessThan(1e-4);
    for (const p of t!.perLabel ?? []) {
      const q = done.test.perLabel.find((x: { label: number }) => x.label === p.label);
      expect(q.count).toBe(p.count);
      expect(rel(q.mse, p.mse)).toBeLessThan(1e-4);
    }
    // the imported run: training counts without label 3, a test row, report.json
    expect(imp.metrics?.trainLabelCounts?.map((c) => c.label)).not.toContain(3);
    expect(
      JSON.parse(fs.readFileSync(path.join(work, 'imported', 'model', 'report.json'), 'utf8')).metrics.test.count,
    ).toBe(120);

    // and the studio itself, trained on the same config, measures the same 120 test images
    const studio = await trainRun({
      config: { ...input, epochs: 1 },
      dataset: data,
      runDir: path.join(work, 'studio'),
    });
    expect(studio.status, studio.message).toBe('completed');
    expect(studio.metrics?.test?.count).toBe(120);
    expect(studio.metrics?.test?.perLabel?.map((p) => [p.label, p.count])).toEqual(
      t!.perLabel?.map((p) => [p.label, p.count]),
    );
  }, 300_000);

  it('a loss train.py does not know is refused in plain words', () => {
    const odd = path.join(work, 'odd-loss');
    fs.cpSync(jobDir, odd, { recursive: true });
    fs.rmSync(path.join(odd, 'out'), { recursive: true, force: true });
    const job = JSON.parse(fs.readFileSync(path.join(odd, 'job.json'), 'utf8'));
    job.config.loss = 'perceptual';
    fs.writeFileSync(path.join(odd, 'job.json'), JSON.stringify(job));
    const r = spawnSync(env.python, [path.join(odd, 'train.py'), '--epochs', '1'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(
      /uses the loss 'perceptual', which this train.py does not train \(it knows mse, bce, ssim, l2\+ssim\)/,
    );
    expect(r.stderr).not.toMatch(/Traceback/);
    expect(fs.existsSync(path.join(odd, 'out'))).toBe(false);
  }, 120_000);
});

describe('the SSIM objectives in train.py', () => {
  /** The first n pictures of a dataset as floats in [0, 1], and a noisy copy of them (the input; the clean ones are the target). */
  const batchOf = (d: Dataset, n: number) => {
    const size = d.shape[0] * d.shape[1] * d.shape[2];
    const x = Float32Array.from(d.images.subarray(0, n * size), (v) => v / 255);
    let s = 5;
    const noisy = x.map((v) =>
      Math.min(1, Math.max(0, v + (((s = (s * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24 - 0.5) * 0.4)),
    );
    return { x, noisy };
  };
  const JOBS: Array<[string, Record<string, unknown>, Dataset]> = [
    [
      'conv, l2+ssim (w 0.7), 12×10 colour pictures (a 9×9 window)',
      { kind: 'conv', inputShape: [12, 10, 3], latentDim: 8, hidden: [8], loss: 'l2+ssim', ssimWeight: 0.7 },
      colour(80),
    ],
    [
      'dense, ssim, 28×28 digits',
      { kind: 'dense', inputShape: [28, 28, 1], latentDim: 8, hidden: [32], loss: 'ssim' },
      digits(80),
    ],
    [
      'conv, 2 stages, l2+ssim (w 0.5), linear output, 28×28 digits',
      {
        kind: 'conv',
        inputShape: [28, 28, 1],
        latentDim: 8,
        hidden: [4, 8],
        loss: 'l2+ssim',
        outputActivation: 'linear',
      },
      digits(80),
    ],
  ];
  for (const [name, cfg, data] of JOBS) {
    it(`${name}: train.py's objective on the job's initial weights and a fixed batch is the studio's`, async () => {
      const input = { ...cfg, epochs: 1, batchSize: 16, seed: 21 };
      const checked = validateConfig(input, { count: data.count, shape: data.shape });
      if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
      const c = checked.config;
      const dir = path.join(work, `ssim-${name.replace(/\W+/g, '-')}`);
      await exportJob({ config: input, dataset: data, datasetSpec: null, datasetName: 'd', name: 'ssim', out: dir });
      const n = 16;
      const { x, noisy } = batchOf(data, n);
      writeNpy(path.join(dir, 'x.npy'), x, [n, ...data.shape]);
      writeNpy(path.join(dir, 'noisy.npy'), noisy, [n, ...data.shape]);
      const ae = buildAutoencoder(c);
      const studio = tf.tidy(() => {
        const [tx, tn] = [tf.tensor(x, [n, ...data.shape]), tf.tensor(noisy, [n, ...data.shape])];
        return [tx, tx, tn, tx, tn, tn].reduce<number[]>(
          (acc, _, i, all) => (i % 2 ? acc : [...acc, objective(ae, c, all[i], all[i + 1], 1).dataSync()[0]]),
          [],
        );
      });
      ae.encoder.dispose();
      ae.decoder.dispose();
      const res = parity<{ loss: number }>(dir, {
        clean: { op: 'objective', input: path.join(dir, 'x.npy'), target: path.join(dir, 'x.npy') },
        noisy: { op: 'objective', input: path.join(dir, 'noisy.npy'), target: path.join(dir, 'x.npy') },
      });
      const job = [res.clean.loss, res.noisy.loss];
      const rel = job.map((v, i) => Math.abs(v - studio[i]) / studio[i]);
      console.log(
        `${name}: objective studio ${studio
          .slice(0, 2)
          .map((v) => v.toFixed(7))
          .join(
            ' / ',
          )}, train.py ${job.map((v) => v.toFixed(7)).join(' / ')} (relative diff ${rel.map((v) => v.toExponential(2)).join(' / ')})`,
      );
      rel.forEach((v) => expect(v).toBeLessThan(1e-5));
      // against the noisy pictures as the target the objective moves by far more than the tolerance, so a port
      // that compared the reconstruction with its input instead of the clean target would show
      expect(Math.abs(studio[2] - studio[1]) / studio[1]).toBeGreaterThan(1e-3);
    }, 180_000);
  }

  it('train.py trains an l2+ssim job; its test-split objective is what the studio measures on the imported model', async () => {
    const data = colour(120);
    const input = { ...JOBS[0][1], epochs: 2, batchSize: 16, seed: 23, testSplit: 0.2 };
    const dir = path.join(work, 'ssim-train');
    await exportJob({ config: input, dataset: data, datasetSpec: null, datasetName: 'c', name: 'ssim', out: dir });
    parity(dir, { t: { op: 'train', epochs: 2 } });
    const lines = fs
      .readFileSync(path.join(dir, 'out', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { train_loss: number });
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => Number.isFinite(l.train_loss))).toBe(true);
    expect(lines[1].train_loss).toBeLessThan(lines[0].train_loss);
    const done = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'done.json'), 'utf8'));
    const imp = await importJobAsRun(dir, path.join(work, 'ssim-imported'));
    const t = imp.metrics!.test!;
    const rel = Math.abs(done.test.loss - t.loss) / t.loss;
    console.log(
      `l2+ssim job, 2 epochs: train loss ${lines.map((l) => l.train_loss.toFixed(5)).join(' → ')}; test split train.py ${done.test.loss.toFixed(6)}, studio ${t.loss.toFixed(6)} (relative diff ${rel.toExponential(2)})`,
    );
    expect(rel).toBeLessThan(1e-4);
  }, 300_000);
});

describe('ae-studio job watch', () => {
  it('follows a real launch.sh epoch by epoch with an ETA, then imports the finished job (--import)', async () => {
    const jobDir = path.join(work, 'watched');
    await exportJob({
      // a conv model with a small batch: epochs long enough (about a second) to be seen one by one
      config: {
        kind: 'conv',
        inputShape: [28, 28, 1],
        latentDim: 8,
        hidden: [8, 16],
        epochs: 4,
        batchSize: 8,
        seed: 2,
        testSplit: 0.1,
      },
      dataset: digits(600),
      labelNames: [...'0123456789'],
      datasetSpec: null,
      datasetName: 'digits',
      name: 'watched',
      out: jobDir,
    });
    const child = spawn(path.join(jobDir, 'launch.sh'), ['--workers', '1'], {
      env: { ...process.env, PYTHON: env.python, OMP_NUM_THREADS: '1' },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const lines: string[] = [];
    const errs: string[] = [];
    const ws = path.join(work, 'watch-ws');
    let code: number;
    try {
      code = await cli(
        ['job', 'watch', jobDir, '--interval', '0.1', '--timeout', '240', '--import', '--workspace', ws],
        (l) => lines.push(l),
        (l) => errs.push(l),
      );
    } finally {
      // done.json comes a moment before the workers leave: the launch is given a minute to end
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      void exited.then(() => clearTimeout(timer));
    }
    console.log(`job watch printed:\n${lines.join('\n')}`);
    expect(code, errs.join('\n')).toBe(0);
    expect(await exited).toBe(0);
    // the epochs as they came (the first lines may be 'not started' or 'epoch 0/4'), the curve, an ETA while it trained
    expect(
      lines.some((l) => /^epoch 4\/4, loss \d\.\d{5} \(\d\.\d{5} at epoch 1, best/.test(l) && /finished$/.test(l)),
    ).toBe(true);
    expect(lines.some((l) => /^epoch [123]\/4, .*ETA \d/.test(l))).toBe(true);
    const imported = lines.find((l) => l.startsWith('Imported as run'));
    expect(imported).toMatch(/Imported as run 'imported-job-[a-z0-9-]+' \(completed, 4 epochs/);
    const runId = /'([^']+)'/.exec(imported!)![1];
    const run = JSON.parse(fs.readFileSync(path.join(ws, 'runs', runId, 'run.json'), 'utf8'));
    expect(run).toMatchObject({ status: 'completed', epochsDone: 4 });
    expect(run.metrics.test.count).toBe(60);
    expect(lines.join('\n')).toMatch(
      /Test split \(60 images, never trained on\): loss \d\.\d{5}, MSE \d\.\d{5}, PSNR [\d.]+ dB, SSIM [\d.]+\./,
    );
  }, 300_000);
});
