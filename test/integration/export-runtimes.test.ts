// Exports checked by the runtimes they are for: models trained briefly on real MNIST
// (dense, conv with LeakyReLU, dense VAE, conv VAE) and on real photographs imported at 64×64 RGB
// (a 3-stage conv AE, a 3-stage conv VAE with 5×5 kernels) are exported as every format × part;
// tfjs-node reloads the TensorFlow.js exports, Keras 3 on TensorFlow loads the .keras archives and
// onnxruntime runs the ONNX files, all on the same digits (the decoder on their codes), and their
// outputs must match the studio's own within 1e-4. The Python side runs in a venv made from the
// local pip index (test/helpers/pyenv.ts), created once and cached.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-node';
import { loadMnist, loadTrained, trainRun, type Dataset, type TrainedModel } from '../../src-main/engine';
import { exportModel, predictPart, readStudioInfo, EXPORT_PARTS, type ExportPart } from '../../src-main/formats';
import { ensurePyEnv, runPython, type PyEnv } from '../helpers/pyenv';
import { readNpy, writeNpy } from '../helpers/npy';
import { samplePhotosDir } from '../helpers/photos';
import { importPaths } from '../../src-main/datasets/import';

const here = path.dirname(fileURLToPath(import.meta.url));
const TOL = 1e-4;

const all = loadMnist(1000, { seed: 3 });
const subset = (from: number, n: number): Dataset => ({
  images: all.images.subarray(from * 784, (from + n) * 784),
  labels: all.labels?.subarray(from, from + n),
  count: n,
  shape: [28, 28, 1],
});
const train = subset(0, 600);
const probe = subset(900, 16); // never trained on

const MODELS = {
  dense: { kind: 'dense', latentDim: 32 },
  conv: { kind: 'conv', latentDim: 16, activation: 'leaky-relu' },
  vae: { kind: 'vae', latentDim: 8, hidden: [64], activation: 'tanh', loss: 'bce' },
  'conv-vae': { kind: 'conv-vae', latentDim: 4, hidden: [8, 16], activation: 'elu', loss: 'bce' },
  // 64×64 RGB photographs
  'conv-3stage-rgb': { kind: 'conv', latentDim: 32, hidden: [16, 32, 64], inputShape: [64, 64, 3] },
  'conv-vae-5x5-rgb': {
    kind: 'conv-vae',
    latentDim: 8,
    hidden: [8, 16, 16],
    kernelSize: 5,
    activation: 'leaky-relu',
    inputShape: [64, 64, 3],
  },
} as const;
type ModelName = keyof typeof MODELS;

let env: PyEnv;
let work: string;
const trained = new Map<ModelName, TrainedModel>();

const maxAbsDiff = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** Photographs imported at 64×64 RGB (centre crop, letterboxed, stretched: three pictures per photo). */
let photos: Dataset;
let photoProbe: Dataset;

/** The part's input for the probe images (digits or photos never trained on): images, or (decoder) their codes. */
function partInput(t: TrainedModel, part: ExportPart): { data: Float32Array; shape: number[] } {
  const p = t.config.inputShape[2] === 3 ? photoProbe : probe;
  const x = Float32Array.from(p.images, (v) => v / 255);
  if (part !== 'decoder') return { data: x, shape: [p.count, ...p.shape] };
  return { data: t.encode(x), shape: [p.count, t.config.latentDim] };
}

/** The studio's outputs (a VAE encoder: [mean, log-variance]). */
function studioOutputs(
  t: TrainedModel,
  part: ExportPart,
  input: { data: Float32Array; shape: number[] },
): Float32Array[] {
  const x = tf.tensor(input.data, input.shape);
  const ys = predictPart(t.ae, part, x);
  const out = ys.map((y) => y.dataSync() as Float32Array);
  tf.dispose([x, ...ys]);
  return out;
}

beforeAll(async () => {
  const started = Date.now();
  env = ensurePyEnv();
  console.log(
    `python venv ${env.dir}: ${env.createdInSec > 0 ? `created in ${env.createdInSec.toFixed(0)} s` : 'reused'} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-export-rt-'));
  const sets = await Promise.all(
    (['crop', 'pad', 'stretch'] as const).map((fit) =>
      importPaths([samplePhotosDir()], { size: 64, mode: 'rgb', fit }),
    ),
  );
  const n = sets.reduce((a, s) => a + s.dataset.count, 0);
  expect(n).toBeGreaterThanOrEqual(60);
  const images = new Uint8Array(n * 64 * 64 * 3);
  let at = 0;
  for (const s of sets) {
    images.set(s.dataset.images, at);
    at += s.dataset.images.length;
  }
  const per = 64 * 64 * 3;
  photos = { images: images.subarray(0, (n - 8) * per), count: n - 8, shape: [64, 64, 3] };
  photoProbe = { images: images.subarray((n - 8) * per), count: 8, shape: [64, 64, 3] };
  for (const [name, cfg] of Object.entries(MODELS) as Array<[ModelName, (typeof MODELS)[ModelName]]>) {
    const runDir = path.join(work, 'runs', name);
    const rgb = 'inputShape' in cfg;
    const r = await trainRun({
      config: { inputShape: [28, 28, 1], ...cfg, epochs: rgb ? 3 : 1, batchSize: rgb ? 8 : 50, seed: 11 },
      dataset: rgb ? photos : train,
      runDir,
    });
    expect(r.status, r.message).toBe('completed');
    expect(r.step?.step, 'every model trains on the fast step as one graph').toBe('graph');
    if (rgb) expect(r.history.loss[2], `${name} learns the photographs`).toBeLessThan(r.history.loss[0]);
    trained.set(name, await loadTrained(runDir));
  }
}, 15 * 60_000);

afterAll(() => {
  for (const t of trained.values()) t.dispose();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('TensorFlow.js export, reloaded by tfjs-node', () => {
  for (const name of Object.keys(MODELS) as ModelName[]) {
    it(`${name}: encoder, decoder and full give the studio's outputs`, async () => {
      const t = trained.get(name)!;
      const diffs: string[] = [];
      for (const part of EXPORT_PARTS) {
        const out = path.join(work, 'tfjs', `${name}-${part}`);
        const res = await exportModel(t, { format: 'tfjs', part, out });
        expect(res.files.map((f) => path.basename(f)).sort()).toEqual(['model.json', 'studio.json', 'weights.bin']);
        expect(readStudioInfo(out)).toMatchObject({
          part,
          config: { kind: t.config.kind, latentDim: t.config.latentDim },
        });
        const m = await tf.loadLayersModel(`file://${out}/model.json`);
        const input = partInput(t, part);
        const x = tf.tensor(input.data, input.shape);
        const got = m.predict(x) as tf.Tensor | tf.Tensor[];
        const gots = (Array.isArray(got) ? got : [got]).map((g) => g.dataSync() as Float32Array);
        const want = studioOutputs(t, part, input);
        expect(gots.length).toBe(want.length);
        const d = Math.max(...want.map((w, i) => maxAbsDiff(gots[i], w)));
        diffs.push(`${part} ${d.toExponential(2)}`);
        expect(d).toBeLessThan(TOL);
        tf.dispose([x, got]);
        m.dispose();
      }
      console.log(`tfjs ${name}: max |Δ| ${diffs.join(', ')}`);
    });
  }
});

describe('Keras 3 (.keras) and ONNX exports, loaded by Keras on TensorFlow and run in onnxruntime', () => {
  it(
    'every model × part matches the studio within 1e-4',
    async () => {
      type Job = {
        id: string;
        format: 'keras' | 'onnx';
        model: string;
        input: string;
        outputs: string[];
        want: Float32Array[];
        shapes: number[][];
      };
      const jobs: Job[] = [];
      for (const name of Object.keys(MODELS) as ModelName[]) {
        const t = trained.get(name)!;
        for (const part of EXPORT_PARTS) {
          const input = partInput(t, part);
          const inFile = path.join(work, `${name}-${part}-x.npy`);
          writeNpy(inFile, input.data, input.shape);
          const want = studioOutputs(t, part, input);
          for (const format of ['keras', 'onnx'] as const) {
            const id = `${format}/${name}/${part}`;
            const model = path.join(work, format, `${name}-${part}.${format}`);
            const res = await exportModel(t, { format, part, out: model });
            expect(res.files).toEqual([model]);
            expect(res.bytes).toBe(fs.statSync(model).size);
            jobs.push({
              id,
              format,
              model,
              input: inFile,
              outputs: want.map((_, i) => path.join(work, `${name}-${part}-${format}-y${i}.npy`)),
              want,
              shapes: [],
            });
          }
        }
      }
      const jobsFile = path.join(work, 'jobs.json');
      fs.writeFileSync(jobsFile, JSON.stringify(jobs.map(({ want: _w, shapes: _s, ...j }) => j)));
      const started = Date.now();
      const stdout = runPython(env, path.join(here, 'py', 'run_exports.py'), [jobsFile], 10 * 60_000);
      const report = JSON.parse(
        stdout
          .split('\n')
          .find((l) => l.startsWith('RESULT '))!
          .slice(7),
      ) as Record<string, { opset?: number; shapes: number[][] }> & {
        keras_version: string;
        keras_backend: string;
        onnxruntime_version: string;
      };
      console.log(
        `python side (Keras ${report.keras_version} on ${report.keras_backend}, onnxruntime ${report.onnxruntime_version}) took ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      expect(report.keras_version).toBe('3.15.1');
      expect(report.keras_backend).toBe('tensorflow');
      const lines: string[] = [];
      const failures: string[] = [];
      for (const j of jobs) {
        const d = Math.max(...j.want.map((w, i) => maxAbsDiff(readNpy(j.outputs[i]).data, w)));
        if (j.format === 'onnx') expect(report[j.id].opset).toBeGreaterThanOrEqual(13);
        lines.push(`${j.id}: max |Δ| ${d.toExponential(2)}`);
        if (!(d < TOL)) failures.push(`${j.id}: ${d}`);
      }
      console.log(lines.join('\n'));
      expect(failures).toEqual([]);
    },
    10 * 60_000,
  );
});
