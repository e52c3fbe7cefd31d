// Inference speed against onnxruntime, in one sitting: for models A, B, D and E the studio builds
// the model, exports it with its own ONNX exporter, and then, in ROUNDS interleaved rounds, the
// studio's path (TrainedModel.reconstruct on uint8 pixels as the store holds them — what the
// Gallery, Try it, evaluation and latents call) and onnxruntime (Python, from the local pip index
// through test/helpers/pyenv.ts, its default threads, on float32 pixels made beforehand) each
// reconstruct batches of BATCH images for SECONDS (the studio first in odd rounds, onnxruntime first in
// even ones). The npm script runs it through tf-process.ts, so the process has the allocator settings
// the studio's trainer starts with (engine/allocator.ts). Prints one ROUND line per measurement and one
// SUMMARY line per model: the median images/s of each and the median of the per-round ratios
// (studio / onnxruntime; the goal is ≥ 1.0). Untrained weights: the speed does not depend on them.
//   npm run bench:infer                        (ROUNDS=3 BATCH=256 SECONDS=3 MODELS="A B D E")
//   QUICK=1 npm run bench:infer                (1 round of 0.5 s each: proves it runs)
//   AE_INFER_GRAPH=0 npm run bench:infer       (the studio on tfjs's layers, op by op: the old path)
//   AE_BENCH_MALLOC=default npm run bench:infer (glibc's default allocator settings, to compare)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAutoencoder, validateConfig, type ModelConfigInput } from '../../src-main/engine';
import { TrainedModel } from '../../src-main/engine/trained-model';
import { exportModel } from '../../src-main/formats';
import { ensurePyEnv, runPython } from '../helpers/pyenv';

const MODELS: Record<string, { name: string; config: ModelConfigInput }> = {
  A: { name: 'dense 784-128-784', config: { kind: 'dense', inputShape: [28, 28, 1], latentDim: 128 } },
  B: {
    name: 'conv 28×28, 32-64, 16-d code',
    config: { kind: 'conv', inputShape: [28, 28, 1], latentDim: 16, hidden: [32, 64] },
  },
  D: {
    name: 'conv 64×64×3, 3 stages 32-64-128, 128-d code',
    config: { kind: 'conv', inputShape: [64, 64, 3], latentDim: 128, hidden: [32, 64, 128], kernelSize: 3 },
  },
  E: {
    name: 'conv 128×128×3, 4 stages 32-64-128-256, 256-d code',
    config: { kind: 'conv', inputShape: [128, 128, 3], latentDim: 256, hidden: [32, 64, 128, 256], kernelSize: 3 },
  },
};

const quick = process.env.QUICK === '1';
const rounds = Number(process.env.ROUNDS ?? (quick ? 1 : 3));
const batch = Number(process.env.BATCH ?? 256);
const seconds = Number(process.env.SECONDS ?? (quick ? 0.5 : 3));
const keys = (process.env.MODELS ?? 'A B D E').split(/[\s,]+/).filter((k) => k in MODELS);

const env = ensurePyEnv();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-bench-infer-'));
const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'infer_ort.py');

interface Entry {
  model: TrainedModel;
  onnx: string;
  images: Uint8Array;
}
const entries: Record<string, Entry> = {};

/** The studio: reconstruct `batch` uint8 images at a time for `seconds` after 3 warm-up batches. */
function studio(e: Entry): number {
  for (let i = 0; i < 3; i++) e.model.reconstruct(e.images);
  let done = 0;
  const start = performance.now();
  for (;;) {
    e.model.reconstruct(e.images);
    done += batch;
    const elapsed = (performance.now() - start) / 1000;
    if (elapsed >= seconds && done >= 3 * batch) return done / elapsed;
  }
}
function onnxruntime(e: Entry): { ips: number; version: string } {
  const out = runPython(env, script, [e.onnx, String(batch), String(seconds)]);
  const r = JSON.parse(
    out
      .split('\n')
      .find((l) => l.startsWith('RESULT '))!
      .slice(7),
  ) as { images_per_s: number; onnxruntime: string };
  return { ips: r.images_per_s, version: r.onnxruntime };
}

async function main(): Promise<void> {
  for (const k of keys) {
    const r = validateConfig({ ...MODELS[k].config, seed: 1 }, { count: 1000, shape: MODELS[k].config.inputShape });
    if (!r.ok) throw new Error(`model ${k}: ${JSON.stringify(r.errors)}`);
    const c = r.config;
    const model = new TrainedModel(buildAutoencoder(c), c, {
      mean: Array(c.latentDim).fill(0),
      std: Array(c.latentDim).fill(1),
    });
    const onnx = path.join(work, `${k}.onnx`);
    await exportModel(model, { format: 'onnx', part: 'full', out: onnx });
    const images = new Uint8Array(batch * model.pixels);
    for (let i = 0; i < images.length; i++) images[i] = (i * 2654435761) >>> 24;
    entries[k] = { model, onnx, images };
  }
  const got: Record<string, { studio: number[]; onnxruntime: number[] }> = {};
  let ortVersion = '';
  for (let round = 1; round <= rounds; round++) {
    for (const k of keys) {
      const e = entries[k];
      // Odd rounds run the studio first, even rounds onnxruntime first: this machine's speed drifts
      // under sustained load (a few seconds of both cores busy lower the next seconds' throughput
      // by up to a quarter), so a fixed order would always hand the same side the cooler start.
      let s = 0;
      let o: { ips: number; version: string };
      if (round % 2) {
        s = studio(e);
        o = onnxruntime(e);
      } else {
        o = onnxruntime(e);
        s = studio(e);
      }
      ortVersion = o.version;
      const g = (got[k] ??= { studio: [], onnxruntime: [] });
      g.studio.push(Math.round(s));
      g.onnxruntime.push(Math.round(o.ips));
      console.log(
        `ROUND ${JSON.stringify({ round, model: k, studio_images_per_s: Math.round(s), onnxruntime_images_per_s: Math.round(o.ips), path: e.model.inferencePath, load: Number(os.loadavg()[0].toFixed(2)) })}`,
      );
    }
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  for (const k of keys) {
    const g = got[k];
    const ratios = g.studio.map((s, i) => s / g.onnxruntime[i]);
    console.log(
      `SUMMARY ${JSON.stringify({
        model: k,
        name: MODELS[k].name,
        batch,
        rounds,
        studio_path: entries[k].model.inferencePath,
        median_images_per_s: { studio: median(g.studio), onnxruntime: median(g.onnxruntime) },
        median_ratio_studio_over_onnxruntime: Number(median(ratios).toFixed(2)),
        ratio_per_round: ratios.map((x) => Number(x.toFixed(2))),
        onnxruntime: ortVersion,
        cores: os.availableParallelism(),
      })}`,
    );
  }
  for (const e of Object.values(entries)) e.model.dispose();
  fs.rmSync(work, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
