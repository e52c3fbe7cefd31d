// What a trained model offers: reconstruct, encode, decode, sample, interpolate,
// 2-D latent projection (PCA when the code has more than 2 dimensions), the decoded manifold
// grid for 2-D codes, per-image MSE / PSNR / SSIM and the k worst reconstructions.
// Plain typed arrays at the boundary (they travel over IPC); tensors only inside.
import fs from 'node:fs';
import path from 'node:path';
import { readTidy, tf } from './tf';
import { isVae, validateConfig, type ModelConfig } from './config';
import { encodeMean, type Autoencoder } from './models';
import { loadAutoencoder, saveAutoencoder, writeDirAtomic } from './persist';
import { sampleCodes, type LatentStats } from './latent-stats';
import { imageMetrics, msePerImage, psnrFromMse, ssimMap, ssimPerImage, type ImageMetrics } from './metrics';
import { mulberry32 } from './rng';
import type { Dataset } from './data';
import { InferenceGraph, inferChunk, type InferOutputs, type InferWant, type InspectSpec } from './fast/infer';
import { loadInspection, type InspectionFile } from './inspect/calibration';

/** The inspection file of a model folder, checked against `runId` when given (else against the weights only). */
function loadInspectionFor(modelDir: string, runId: string | undefined): InspectionFile | undefined {
  if (runId !== undefined) return loadInspection(modelDir, runId);
  const file = path.join(modelDir, 'inspection.json');
  if (!fs.existsSync(file)) return undefined;
  const run = (JSON.parse(fs.readFileSync(file, 'utf8')) as { run?: unknown }).run;
  return typeof run === 'string' ? loadInspection(modelDir, run) : undefined;
}

/** Images as one flat float array in [0,1] (N·H·W·C) or uint8 0..255. */
export type Images = Float32Array | Uint8Array;

/** Where a method takes images, a whole dataset (its images, and for project2d its labels) does too. */
export type ImagesOrDataset = Images | Dataset;

export interface Projection {
  /** N × 2, row-major. */
  points: Float32Array;
  labels?: ArrayLike<number>;
  method: 'identity' | 'pca';
  /** Share of the code's variance the two axes explain (1 for identity). */
  explained: number;
}

export class TrainedModel {
  readonly vae: boolean;
  readonly pixels: number;
  /**
   * The run's inspection settings (model/inspection.json: maps, score, normalisation, threshold,
   * measured AUCs) when the folder has them for these weights; exports carry them.
   */
  inspection?: InspectionFile;

  constructor(
    readonly ae: Autoencoder,
    readonly config: ModelConfig,
    readonly latentStats: LatentStats,
  ) {
    this.vae = isVae(config.kind);
    const [h, w, c] = config.inputShape;
    this.pixels = h * w * c;
  }

  /** The pixels of `data`, after checking a dataset's shape against the model's input. */
  private pixelsOf(data: ImagesOrDataset): Images {
    if (data instanceof Uint8Array || data instanceof Float32Array) return data;
    const [h, w, c] = this.config.inputShape;
    const [dh, dw, dc] = data.shape;
    if (dh !== h || dw !== w || dc !== c)
      throw new Error(`This model takes ${h}×${w}×${c} images; the dataset has ${dh}×${dw}×${dc}.`);
    return data.images.subarray(0, data.count * this.pixels);
  }

  /** The inference graph (fast/infer.ts): made on first use; null where the model cannot have one or it failed. */
  private graph: InferenceGraph | null | undefined;
  /** Why forward-only work runs on tfjs's layers instead of the inference graph (undefined while it does not). */
  graphRefusal: string | undefined;

  /** Which path forward-only work takes: one TensorFlow graph, or tfjs's layers op by op. */
  get inferencePath(): 'graph' | 'layers' {
    return this.inference() ? 'graph' : 'layers';
  }

  private inference(): InferenceGraph | null {
    if (this.graph === undefined) {
      const r = InferenceGraph.tryCreate(this.ae, this.config);
      this.graph = 'graph' in r ? r.graph : null;
      this.graphRefusal = 'reason' in r ? r.reason : undefined;
    }
    return this.graph;
  }

  /** Runs `f` on the graph; a graph that fails is dropped (with the reason) and `fallback` answers, now and from then on. */
  private onGraph<T>(f: (g: InferenceGraph) => T, fallback: () => T): T {
    const g = this.inference();
    if (g) {
      try {
        return f(g);
      } catch (e) {
        this.graphRefusal = `the inference graph failed (${e instanceof Error ? e.message : String(e)})`;
        g.dispose();
        this.graph = null;
      }
    }
    return fallback();
  }

  /**
   * Reconstructions, codes, per-image MSE and SSIM and their per-pixel maps (squared error, SSIM
   * map) of `images` (uint8 0..255 or float in [0,1], N·H·W·C) in one pass: only the outputs asked
   * for are computed. The inference graph when the
   * model has one, tfjs's layers otherwise (same numbers up to float rounding).
   */
  infer(images: Images, want: InferWant): InferOutputs {
    const n = images.length / this.pixels;
    if (!Number.isInteger(n))
      throw new Error(`expected a multiple of ${this.pixels} pixel values, got ${images.length}`);
    return this.onGraph(
      (g) => g.run(images, want),
      () => {
        const out: InferOutputs = {};
        if (want.code) out.code = this.run(images, (x) => encodeMean(this.ae, x));
        if (want.recon || want.mse || want.ssim || want.errMap || want.ssimMap) {
          const x = this.toTensor(images);
          const rec = tf.tidy(() => this.ae.decoder.predict(encodeMean(this.ae, x)) as tf.Tensor4D);
          try {
            if (want.recon) out.recon = rec.dataSync() as Float32Array;
            if (want.mse) out.mse = readTidy(() => msePerImage(x, rec));
            if (want.ssim) out.ssim = readTidy(() => ssimPerImage(x, rec));
            if (want.errMap) out.errMap = readTidy(() => tf.squaredDifference(x, rec));
            if (want.ssimMap) out.ssimMap = readTidy(() => ssimMap(x, rec));
          } finally {
            tf.dispose([x, rec]);
          }
        }
        return out;
      },
    );
  }

  /**
   * Final anomaly maps (N·H·W) and their scores for `images`, computed inside the inference graph
   * (fast/infer.ts `InspectSpec`); undefined where the model runs on tfjs's layers (then
   * inspect/maps.ts computes them with tfjs ops, to the same numbers up to float rounding).
   */
  inspectOnGraph(
    images: Images,
    spec: InspectSpec,
    want: { amap?: boolean; scores?: boolean },
  ): InferOutputs | undefined {
    return this.onGraph(
      (g) =>
        g.run(images, { amap: want.amap, amapMean: want.scores, amapMax: want.scores, amapTopk: want.scores }, spec),
      () => undefined,
    );
  }

  /** Images per forward-only call that fills the inference graph's batches without padding (256, fewer for big pictures). */
  get inferChunk(): number {
    return inferChunk(this.pixels);
  }

  /**
   * Reconstructions of a batch of images (uint8 0..255 or float in [0,1], N·H·W·C), as one flat
   * float array: the call per-pixel work (anomaly maps) builds on.
   */
  reconstructBatch(images: Images): Float32Array {
    return this.reconstruct(images);
  }

  private toTensor(images: Images): tf.Tensor4D {
    const n = images.length / this.pixels;
    if (!Number.isInteger(n))
      throw new Error(`expected a multiple of ${this.pixels} pixel values, got ${images.length}`);
    const data = images instanceof Uint8Array ? Float32Array.from(images, (v) => v / 255) : images;
    return tf.tensor4d(data, [n, ...this.config.inputShape]);
  }

  private run(images: Images, f: (x: tf.Tensor4D) => tf.Tensor): Float32Array {
    return readTidy(() => f(this.toTensor(images)));
  }

  reconstruct(images: Images): Float32Array {
    return this.infer(images, { recon: true }).recon!;
  }

  /** Codes (VAE: the posterior mean), N × latentDim. */
  encode(images: Images): Float32Array {
    return this.infer(images, { code: true }).code!;
  }

  /** Images for codes (N × latentDim). */
  decode(codes: Float32Array): Float32Array {
    return this.onGraph(
      (g) => g.decode(codes),
      () =>
        readTidy(() => {
          const z = tf.tensor2d(codes, [codes.length / this.config.latentDim, this.config.latentDim]);
          return this.ae.decoder.predict(z) as tf.Tensor;
        }),
    );
  }

  /** New images: from N(0, I) for a VAE, from the full-covariance Gaussian fitted to the training codes otherwise. */
  sample(n: number, seed = Date.now() % 2 ** 31): Float32Array {
    const d = this.config.latentDim;
    const codes = readTidy(() => {
      const z = tf.randomNormal([n, d], 0, 1, 'float32', seed);
      return this.vae ? z : sampleCodes(this.latentStats, z as tf.Tensor2D);
    });
    return this.decode(codes);
  }

  /** `steps` images along the straight line between the codes of `a` and `b` (both included). */
  interpolate(a: Images, b: Images, steps: number): Float32Array {
    if (steps < 2) throw new Error('interpolation needs at least 2 steps');
    const za = this.encode(a);
    const zb = this.encode(b);
    const d = this.config.latentDim;
    const codes = new Float32Array(steps * d);
    for (let s = 0; s < steps; s++) {
      const t = s / (steps - 1);
      for (let k = 0; k < d; k++) codes[s * d + k] = (1 - t) * za[k] + t * zb[k];
    }
    return this.decode(codes);
  }

  /**
   * Codes projected to 2-D: as they are for a 2-D code, onto the top two principal components
   * otherwise. Labels come from the dataset unless given.
   */
  project2d(data: ImagesOrDataset, labels?: ArrayLike<number>): Projection {
    if (!labels && !(data instanceof Uint8Array || data instanceof Float32Array))
      labels = data.labels?.subarray(0, data.count);
    const z = this.encode(this.pixelsOf(data));
    const d = this.config.latentDim;
    const n = z.length / d;
    if (d === 1) {
      const points = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) points[2 * i] = z[i];
      return { points, labels, method: 'identity', explained: 1 };
    }
    if (d === 2) return { points: z, labels, method: 'identity', explained: 1 };
    const { components, explained } = pca2(z, n, d);
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k] += z[i * d + k] / n;
    const points = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 2; c++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += (z[i * d + k] - mean[k]) * components[c][k];
        points[2 * i + c] = s;
      }
    }
    return { points, labels, method: 'pca', explained };
  }

  /** A grid × grid of images decoded from evenly spaced 2-D codes (±`range` σ around the code distribution). */
  manifold(grid: number, range = 2): Float32Array {
    if (this.config.latentDim !== 2) {
      throw new Error(
        `The manifold grid needs a 2-D code; this model's code has ${this.config.latentDim} dimensions (use the latent map instead).`,
      );
    }
    const mean = this.vae ? [0, 0] : this.latentStats.mean;
    const std = this.vae ? [1, 1] : this.latentStats.std;
    const codes = new Float32Array(grid * grid * 2);
    for (let r = 0; r < grid; r++) {
      for (let col = 0; col < grid; col++) {
        const u = grid === 1 ? 0 : -range + (2 * range * col) / (grid - 1);
        const v = grid === 1 ? 0 : range - (2 * range * r) / (grid - 1);
        codes[(r * grid + col) * 2] = mean[0] + u * std[0];
        codes[(r * grid + col) * 2 + 1] = mean[1] + v * std[1];
      }
    }
    return this.decode(codes);
  }

  /** Per-image MSE, PSNR and SSIM between the images and their reconstructions. */
  async metrics(data: ImagesOrDataset): Promise<ImageMetrics> {
    const images = this.pixelsOf(data);
    if (this.inference()) {
      const out = this.infer(images, { mse: true, ssim: true });
      if (out.mse && out.ssim) {
        const mse = Array.from(out.mse);
        return { mse, psnr: mse.map(psnrFromMse), ssim: Array.from(out.ssim) };
      }
    }
    const x = this.toTensor(images);
    const rec = tf.tidy(() => this.ae.decoder.predict(encodeMean(this.ae, x)) as tf.Tensor4D);
    try {
      return await imageMetrics(x, rec);
    } finally {
      x.dispose();
      rec.dispose();
    }
  }

  /** Indices of the k worst-reconstructed images (largest MSE first), with their MSE. */
  async worst(data: ImagesOrDataset, k: number): Promise<Array<{ index: number; mse: number }>> {
    const { mse } = await this.metrics(data);
    return mse
      .map((v, index) => ({ index, mse: v }))
      .sort((a, b) => b.mse - a.mse)
      .slice(0, k);
  }

  /**
   * Saves the whole autoencoder (dir/model.json), encoder/ and decoder/ (each loadable on its own
   * with tf.loadLayersModel), config.json and latent-stats.json; loadTrained(dir) reads it back.
   */
  async save(dir: string): Promise<void> {
    await writeDirAtomic(dir, async (tmp) => {
      await saveAutoencoder(this.ae, tmp, { full: true });
      fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify(this.config, null, 2));
      fs.writeFileSync(path.join(tmp, 'latent-stats.json'), JSON.stringify(this.latentStats));
    });
  }

  dispose(): void {
    this.graph?.dispose();
    this.graph = null;
    this.ae.encoder.dispose();
    this.ae.decoder.dispose();
  }
}

/** Loads a trained model from a run folder (its model/) or from a saved model folder. */
export async function loadTrained(dir: string): Promise<TrainedModel> {
  const modelDir = fs.existsSync(path.join(dir, 'model', 'encoder')) ? path.join(dir, 'model') : dir;
  if (!fs.existsSync(path.join(modelDir, 'encoder', 'model.json'))) throw new Error(`No trained model in ${dir}.`);
  const checked = validateConfig(JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8')));
  // a config written before a setting existed gets its default; a damaged one is refused in plain words
  if (!checked.ok)
    throw new Error(
      `The model's config.json in ${modelDir} is not a valid run config (${checked.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}).`,
    );
  const config = checked.config;
  const stats = JSON.parse(fs.readFileSync(path.join(modelDir, 'latent-stats.json'), 'utf8')) as LatentStats;
  const trained = new TrainedModel(await loadAutoencoder(modelDir), config, stats);
  // a run folder's inspection file is checked against its run id; a bare model folder's only against the weights
  const runId = modelDir === dir ? undefined : path.basename(path.resolve(dir));
  try {
    const f = loadInspectionFor(modelDir, runId);
    if (f) trained.inspection = f;
  } catch {
    // an inspection file from another run or for other weights travels nowhere (inspect says why)
  }
  return trained;
}

/** Top two principal components of N × d data by power iteration on the covariance matrix. */
export function pca2(z: Float32Array, n: number, d: number): { components: Float64Array[]; explained: number } {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k] += z[i * d + k] / n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      const va = z[i * d + a] - mean[a];
      for (let b = a; b < d; b++) cov[a * d + b] += (va * (z[i * d + b] - mean[b])) / Math.max(1, n - 1);
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) cov[a * d + b] = cov[b * d + a];
  let trace = 0;
  for (let a = 0; a < d; a++) trace += cov[a * d + a];
  const rand = mulberry32(7);
  const components: Float64Array[] = [];
  let explainedSum = 0;
  for (let c = 0; c < 2; c++) {
    let v = Float64Array.from({ length: d }, () => rand() - 0.5);
    let lambda = 0;
    for (let it = 0; it < 300; it++) {
      // deflate against earlier components
      for (const p of components) {
        const dot = v.reduce((s, x, k) => s + x * p[k], 0);
        for (let k = 0; k < d; k++) v[k] -= dot * p[k];
      }
      const next = new Float64Array(d);
      for (let a = 0; a < d; a++) {
        let s = 0;
        for (let b = 0; b < d; b++) s += cov[a * d + b] * v[b];
        next[a] = s;
      }
      for (const p of components) {
        const dot = next.reduce((s, x, k) => s + x * p[k], 0);
        for (let k = 0; k < d; k++) next[k] -= dot * p[k];
      }
      const norm = Math.hypot(...next);
      if (norm === 0) break;
      lambda = norm;
      v = next.map((x) => x / norm);
    }
    components.push(v);
    explainedSum += lambda;
  }
  return { components, explained: trace > 0 ? explainedSum / trace : 0 };
}
