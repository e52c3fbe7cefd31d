// `tsx test/bench/cluster.ts`: when does handing a run to a cluster pay? The same model trained by the
// studio (trainRun, its fastest step) and by the job's train.py with 1 and 2 workers (launch.sh,
// torchrun, gloo over loopback, one thread per worker as torchrun sets for several), samples/s
// of the last epoch each. Two models: A, a dense 784-256-32 on MNIST; B, a 3-stage conv on 32×32×3
// pictures (the MNIST digits upscaled into colour). PyTorch comes from the local pip index
// (test/helpers/pyenv.ts). Prints a table and one RESULT line per model.
//   npm run bench:cluster                (tsx test/bench/cluster.ts: 4,000 images, 2 epochs each)
//   BENCH_CLUSTER_QUICK=1 npm run bench:cluster   (600 images: proves it runs)
// Timings on a machine shared with other work say little; measure on a quiet one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadMnist, trainRun, type Dataset } from '../../src-main/engine';
import { exportJob } from '../../src-main/cluster/export';
import { TORCH_REQUIREMENTS, ensurePyEnv } from '../helpers/pyenv';

const QUICK = process.env.BENCH_CLUSTER_QUICK === '1';
const N = QUICK ? 600 : 4000;
const EPOCHS = 2;

function colour(d: Dataset): Dataset {
  const images = new Uint8Array(d.count * 32 * 32 * 3);
  for (let i = 0; i < d.count; i++)
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) {
        const sy = Math.min(27, Math.floor((y * 28) / 32));
        const sx = Math.min(27, Math.floor((x * 28) / 32));
        const v = d.images[i * 784 + sy * 28 + sx] as number;
        const o = ((i * 32 + y) * 32 + x) * 3;
        images[o] = v;
        images[o + 1] = d.images[i * 784 + sy * 28 + (27 - sx)] as number;
        images[o + 2] = 255 - v;
      }
  return { images, labels: d.labels, count: d.count, shape: [32, 32, 3] };
}

const env = ensurePyEnv(TORCH_REQUIREMENTS);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-bench-cluster-'));
const mnist = loadMnist(N, { seed: 1 });
const models = {
  A: { config: { kind: 'dense', inputShape: [28, 28, 1], hidden: [256], latentDim: 32, batchSize: 64 }, data: mnist },
  B: {
    config: { kind: 'conv', inputShape: [32, 32, 3], hidden: [16, 32, 64], latentDim: 32, batchSize: 64 },
    data: colour(mnist),
  },
};

async function main() {
  const rows: string[] = [];
  for (const [name, m] of Object.entries(models)) {
    const config = { ...m.config, epochs: EPOCHS, seed: 3, previewEvery: 1_000_000 };
    let studio = 0;
    const r = await trainRun({
      config,
      dataset: m.data,
      runDir: path.join(work, `studio-${name}`),
      onEvent: (e) => {
        if (e.type === 'epoch') studio = e.samplesPerSec;
      },
    });
    if (r.status !== 'completed') throw new Error(`the studio run ${name} failed: ${r.message}`);
    const jobDir = path.join(work, `job-${name}`);
    await exportJob({ config, dataset: m.data, datasetSpec: null, datasetName: 'bench', name, out: jobDir });
    const rate: Record<number, number> = {};
    for (const workers of [1, 2]) {
      const out = path.join(work, `out-${name}-${workers}`);
      const l = spawnSync(
        path.join(jobDir, 'launch.sh'),
        ['--workers', String(workers), '--epochs', String(EPOCHS), '--out', out],
        {
          encoding: 'utf8',
          env: { ...process.env, PYTHON: env.python, OMP_NUM_THREADS: '1' },
          timeout: 1_800_000,
        },
      );
      if (l.status !== 0) throw new Error(`launch.sh --workers ${workers} failed:\n${l.stdout}\n${l.stderr}`);
      const lines = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean);
      rate[workers] = (JSON.parse(lines.at(-1)!) as { samples_per_sec: number }).samples_per_sec;
    }
    const line = `${name} ${m.config.kind} ${m.config.inputShape.join('×')}: studio ${Math.round(studio)}, train.py 1 worker ${Math.round(rate[1])}, 2 workers ${Math.round(rate[2])} samples/s`;
    rows.push(line);
    console.log(
      `RESULT ${JSON.stringify({ model: name, images: N, studio: Math.round(studio), torch1: Math.round(rate[1]), torch2: Math.round(rate[2]), cores: os.cpus().length })}`,
    );
  }
  console.log(`samples/s (last of ${EPOCHS} epochs, ${N} images, ${os.cpus().length} cores):\n${rows.join('\n')}`);
  fs.rmSync(work, { recursive: true, force: true });
}

void main().catch((err) => {
  console.error(err);
  fs.rmSync(work, { recursive: true, force: true });
  process.exit(1);
});
