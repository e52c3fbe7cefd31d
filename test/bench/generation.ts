// `npm run bench:generation`: sample quality per sampler against the real-data floor. For MNIST and
// Fashion-MNIST (the built-ins: 10,000 images each), a dense VAE and a convolutional VAE are trained
// with the engine's real training path (trainRun), then measured like `ae-studio evaluate
// --generation`: the Fréchet distance, precision and recall (k = 3) of each sampler's samples, of
// the reconstructions and of real held-out images (the floor), in the feature space of a small
// classifier trained on the dataset (seeded). Prints one RESULT line (JSON) per model and a
// Markdown table with the date and the machine, for docs/generation.md.
//
//   npm run bench:generation              the full run (minutes to tens of minutes on 2 cores)
//   npm run bench:generation -- --quick   a tiny run that only shows the script works (numbers meaningless)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trainRun, type Dataset } from '../../src-main/engine';
import { loadTrained } from '../../src-main/engine/trained-model';
import { makeBuiltin } from '../../src-main/datasets/builtins';
import { measureGeneration, trainFeatureNet, type GenerationReport } from '../../src-main/engine/generation';

const quick = process.argv.includes('--quick');
const S = quick
  ? { images: 1500, epochs: 1, count: 150, featureImages: 800, featureEpochs: 1, twoStageEpochs: 3, fitCodes: 800 }
  : {
      images: 10_000,
      epochs: 20,
      count: 1000,
      featureImages: 6000,
      featureEpochs: 3,
      twoStageEpochs: undefined,
      fitCodes: 5000,
    };
const DATASETS = ['mnist', 'fashion-mnist'] as const;
const MODELS = {
  'dense VAE': { kind: 'vae', latentDim: 16 },
  'conv VAE': { kind: 'conv-vae', latentDim: 16 },
} as const;

const fix = (v: number, d = 3) => v.toFixed(d);
const rows: string[] = [];
const started = new Date();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-bench-generation-'));
try {
  for (const name of DATASETS) {
    const raw = makeBuiltin(name);
    const n = Math.min(S.images, raw.count);
    const ds: Dataset = {
      images: raw.images.subarray(0, n * 784),
      labels: raw.labels.subarray(0, n),
      count: n,
      shape: raw.shape,
    };
    const t0 = performance.now();
    const net = await trainFeatureNet(raw, name, { maxImages: S.featureImages, epochs: S.featureEpochs });
    const featureSec = (performance.now() - t0) / 1000;
    try {
      for (const [title, m] of Object.entries(MODELS)) {
        const runDir = path.join(tmp, `${name}-${m.kind}`);
        const t1 = performance.now();
        const r = await trainRun({
          config: {
            kind: m.kind,
            inputShape: [28, 28, 1],
            latentDim: m.latentDim,
            epochs: S.epochs,
            batchSize: 64,
            validationSplit: 0.1,
            testSplit: 0.1,
            seed: 1,
            previewEvery: 1_000_000,
          },
          dataset: ds,
          runDir,
        });
        if (r.status !== 'completed') throw new Error(`${name} ${title}: ${r.message}`);
        const trainSec = (performance.now() - t1) / 1000;
        const trained = await loadTrained(runDir);
        try {
          const t2 = performance.now();
          const rep: GenerationReport = await measureGeneration(
            trained,
            ds,
            {
              kind: 'classifier',
              description: `classifier on ${name}`,
              dim: net.dim,
              features: (x, k) => net.features(x, k),
            },
            { count: S.count, seed: 1, maxFitCodes: S.fitCodes, fit: { twoStage: { epochs: S.twoStageEpochs } } },
          );
          const measureSec = (performance.now() - t2) / 1000;
          console.log(
            `RESULT ${JSON.stringify({ dataset: name, model: title, images: n, epochs: S.epochs, classifierAccuracy: net.info.heldOutAccuracy, featureSec, trainSec, measureSec, ...rep })}`,
          );
          const line = (set: string, s: { frechet: number; precision: number; recall: number }) =>
            rows.push(`| ${name} | ${title} | ${set} | ${fix(s.frechet)} | ${fix(s.precision)} | ${fix(s.recall)} |`);
          line('real held-out (floor)', rep.floor);
          line('reconstructions', rep.reconstructions);
          for (const s of rep.samplers)
            if ('scores' in s)
              line(s.name === 'gmm' ? `gmm (${s.description.match(/k = \d+/)?.[0] ?? ''})` : s.name, s.scores);
        } finally {
          trained.dispose();
        }
      }
    } finally {
      net.dispose();
    }
  }
  const cpu = os.cpus();
  console.log(
    `\n${quick ? 'QUICK MODE — numbers are meaningless, only the script is checked.\n' : ''}Measured ${started.toISOString().slice(0, 10)} on ${cpu[0]?.model ?? 'unknown CPU'} (${cpu.length} cores), Node ${process.version}; ${S.images} images, ${S.epochs} epochs, ${S.count} images per compared set.`,
  );
  console.log('| dataset | model | images | Fréchet ↓ | precision ↑ | recall ↑ |\n|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
