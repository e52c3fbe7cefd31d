// The Gallery's computations inside the trainer process: a trained run's model (cached), its
// validation images, and what the model makes of them. Returns plain data (base64 pixels).
import fs from 'node:fs';
import path from 'node:path';
import { applyNoise, imageMetrics, loadTrained, splitIndices, type TrainedModel } from '../engine';
import { tf } from '../engine/tf';
import { atModelSize, openRunDataset } from './runs';
import { RowGather, withoutLabels, type TrainingData } from '../engine/data';
import { imagesToBase64 as split } from '../datasets/base64';
import type { GalleryViewResult, MethodParams } from './protocol';
import type { GalleryTryResult } from '../contract';
import { decodeImage } from '../datasets/import';
import { readDatasetManifest } from '../datasets/store';

const cache = new Map<string, TrainedModel>();
/** Called when a run's model is forgotten (its evaluation is stale too). */
export const forgotten: Array<(runDir: string) => void> = [];

export async function modelFor(runDir: string): Promise<TrainedModel> {
  let m = cache.get(runDir);
  if (!m) {
    for (const [k, old] of cache) {
      old.dispose();
      cache.delete(k); // keep one model in memory
    }
    m = await loadTrained(runDir);
    cache.set(runDir, m);
  }
  return m;
}

/** Forgets a run's cached model (after it trained further). */
export function forgetModel(runDir: string) {
  cache.get(runDir)?.dispose();
  cache.delete(runDir);
  forgotten.forEach((f) => f(runDir));
}

const toU8 = (f: Float32Array) => Uint8Array.from(f, (v) => Math.max(0, Math.min(255, Math.round(v * 255))));

/** The uint8 pixels of some of a dataset's rows, copied out (the dataset may be read from its file and closed after). */
function rowsOf(ds: TrainingData, idx: Int32Array): Uint8Array {
  const raw = idx.length ? new RowGather(ds, idx).slice(0, idx.length) : new Uint8Array(0);
  return raw instanceof Uint8Array ? raw.slice() : Uint8Array.from(raw, (v) => Math.round(v * 255));
}

/** The stored names of a run's dataset's labels (the digits for built-in MNIST). */
function labelNamesOf(p: MethodParams<'gallery'>): string[] {
  return 'builtin' in p.dataset
    ? Array.from({ length: 10 }, (_, i) => String(i))
    : readDatasetManifest(p.workspaceDir, p.dataset.id).labelNames;
}

export async function galleryOp(p: MethodParams<'gallery'>): Promise<GalleryViewResult> {
  const m = await modelFor(p.runDir);
  // A big stored dataset stays in its file: the few hundred images a view shows are read from it.
  const ds = atModelSize(openRunDataset(p.dataset, p.workspaceDir), m.config);
  try {
    return await galleryView(p, m, ds);
  } finally {
    ds.close();
  }
}

async function galleryView(p: MethodParams<'gallery'>, m: TrainedModel, ds: TrainingData): Promise<GalleryViewResult> {
  const shape = m.config.inputShape;
  const per = shape[0] * shape[1] * shape[2];
  // The run's own split, as it trained (engine/run/images.ts): its validation images are those it
  // held out less any label it left out (those are the anomalies, not validation images); the
  // training images (test split apart) for a run without a validation split.
  const c = m.config;
  const runSplit = splitIndices(ds.count, c.validationSplit, c.seed, c.testSplit ?? 0);
  const val = withoutLabels(runSplit.val, ds.labels, c.excludeLabels ?? []);
  const pool = val.length ? val : withoutLabels(runSplit.train, ds.labels, c.excludeLabels ?? []);
  const pick = (n: number) => {
    const idx = pool.subarray(0, Math.min(n, pool.length));
    return { images: rowsOf(ds, idx), labels: Array.from(idx, (i) => Number(ds.labels?.[i] ?? 0)) };
  };
  const params = p.params as Record<string, number>;
  switch (p.op) {
    case 'triplets': {
      const { images } = pick(params.count);
      const n = images.length / per;
      const clean = tf.tidy(() => tf.div(tf.tensor4d(Float32Array.from(images), [n, ...shape]), 255)) as tf.Tensor4D;
      const noisy = applyNoise(clean, m.config.noise, 7) as tf.Tensor4D;
      const noisyData = noisy.dataSync() as Float32Array;
      const rec = m.reconstruct(noisyData);
      const recT = tf.tensor4d(rec, [n, ...shape]);
      const metrics = await imageMetrics(clean, recT);
      tf.dispose([clean, noisy, recT]);
      return {
        op: 'triplets',
        shape,
        originals: split(images, per),
        noisy: split(toU8(noisyData), per),
        reconstructions: split(toU8(rec), per),
        mse: metrics.mse,
        psnr: metrics.psnr.map((v) => (Number.isFinite(v) ? v : null)),
        ssim: metrics.ssim,
      };
    }
    case 'samplers':
      return (await import('./generation')).samplersView(p);
    case 'samples': {
      // the run's remembered sampler (chosen in the Gallery or by `generate --sampler`), else the prior / a Gaussian
      const chosen = fs.existsSync(path.join(p.runDir, 'generation', 'sampler.json'))
        ? await (await import('./generation')).rememberedSamples(p.runDir, params.count, params.seed)
        : undefined;
      return { op: 'samples', shape, images: split(toU8(chosen ?? m.sample(params.count, params.seed)), per) };
    }
    case 'worst': {
      const { images } = pick(500);
      const worst = await m.worst(images, params.count);
      const originals = new Uint8Array(worst.length * per);
      worst.forEach((w, k) => originals.set(images.subarray(w.index * per, (w.index + 1) * per), k * per));
      return {
        op: 'worst',
        shape,
        originals: split(originals, per),
        reconstructions: split(toU8(m.reconstruct(originals)), per),
        mse: worst.map((w) => w.mse),
      };
    }
    case 'latent': {
      const { images, labels } = pick(params.max);
      const proj = m.project2d(images, labels);
      // the stored names, by label number ('' — images that sat in no sub-folder — says so)
      const maxLabel = labels.reduce((a, l) => Math.max(a, l), -1);
      const names = labelNamesOf(p);
      const labelNames = Array.from(
        { length: Math.max(names.length, maxLabel + 1) },
        (_, l) => names[l] || (names[l] === '' ? '(no label)' : String(l)),
      );
      // the images too, so hovering a point shows it (capped: 1,500 MNIST digits are 1.2 MB)
      const withImages = Math.min(labels.length, Math.floor(4_000_000 / per));
      return {
        op: 'latent',
        points: Array.from(proj.points),
        labels,
        labelNames,
        method: proj.method,
        explained: proj.explained,
        shape,
        images: split(images.subarray(0, withImages * per), per),
      };
    }
    case 'manifold':
      return { op: 'manifold', shape, images: split(toU8(m.manifold(params.grid)), per) };
    case 'interpolate': {
      const { images } = pick(Math.max(params.a, params.b) + 1);
      const n = images.length / per;
      if (params.a >= n || params.b >= n) throw new Error(`there are only ${n} validation images`);
      const img = (i: number) => images.subarray(i * per, (i + 1) * per);
      return {
        op: 'interpolate',
        shape,
        images: split(toU8(m.interpolate(img(params.a), img(params.b), params.steps)), per),
      };
    }
    default: {
      const unknown: never = p.op;
      throw new Error(`unknown gallery view '${String(unknown)}'`);
    }
  }
}

/** Try it's files decoded and converted as the run's dataset was (size, colour, fit, background); a file that cannot be read gets its reason. */
/** The centre `size`×`size` crop of an h × w × c picture. */
function centreCrop(px: Uint8Array, [h, w, c]: readonly [number, number, number], size: number): Uint8Array {
  const out = new Uint8Array(size * size * c);
  const [y0, x0] = [Math.floor((h - size) / 2), Math.floor((w - size) / 2)];
  for (let y = 0; y < size; y++)
    out.set(px.subarray(((y0 + y) * w + x0) * c, ((y0 + y) * w + x0 + size) * c), y * size * c);
  return out;
}

export async function decodeTryFiles(
  p: {
    dataset: MethodParams<'galleryTry'>['dataset'];
    workspaceDir: string;
    files: Array<{ name: string; data: string }>;
  },
  shape: readonly [number, number, number],
): Promise<Array<{ name: string; px?: Uint8Array; error?: string }>> {
  const [S, , C] = shape;
  let options: {
    size: number;
    mode: 'grayscale' | 'rgb';
    fit: 'stretch' | 'crop' | 'pad';
    background: 'black' | 'white';
  } = {
    size: S,
    mode: C === 3 ? 'rgb' : 'grayscale',
    fit: 'stretch',
    background: 'black',
  };
  if ('id' in p.dataset) {
    const o = readDatasetManifest(p.workspaceDir, p.dataset.id).options;
    if (o?.fit === 'crop' || o?.fit === 'pad') options = { ...options, fit: o.fit };
    if (o?.background === 'white') options = { ...options, background: 'white' };
  }
  if (shape[0] !== shape[1] || (C !== 1 && C !== 3))
    throw new Error(`This model takes ${shape.join('×')} images; Try it works with square grayscale or RGB images.`);
  const decoded: Array<{ name: string; px?: Uint8Array; error?: string }> = [];
  for (const f of p.files) {
    try {
      decoded.push({ name: f.name, px: await decodeImage(Buffer.from(f.data, 'base64'), f.name, options) });
    } catch (err) {
      decoded.push({ name: f.name, error: (err as Error).message });
    }
  }
  return decoded;
}

/**
 * Try it: each file decoded and converted as the run's dataset was (size, colour, fit, background),
 * reconstructed and encoded, with MSE / PSNR / SSIM and how its error ranks among the validation
 * images' errors. A file that cannot be read gets its reason; the others still go through.
 */
export async function tryImages(p: MethodParams<'galleryTry'>): Promise<GalleryTryResult> {
  const m = await modelFor(p.runDir);
  const shape = m.config.inputShape;
  const per = shape[0] * shape[1] * shape[2];
  // a crop run: each picture decoded at its dataset's size, then its centre crop (the model never saw a shrunk picture)
  const crop = m.config.cropSize ?? 0;
  const full: [number, number, number] =
    crop && 'id' in p.dataset ? readDatasetManifest(p.workspaceDir, p.dataset.id).shape : shape;
  const decoded = (await decodeTryFiles(p, full)).map((d) =>
    crop && d.px ? { ...d, px: centreCrop(d.px, full, crop) } : d,
  );
  const ok = decoded.filter((d) => d.px);
  if (!ok.length) return { shape, results: decoded.map((d) => ({ name: d.name, error: d.error })) };
  const images = new Uint8Array(ok.length * per);
  ok.forEach((d, k) => images.set(d.px as Uint8Array, k * per));
  const rec = m.reconstruct(images);
  const codes = m.encode(images);
  const metrics = await m.metrics(images);
  // the validation images' errors: the yardstick for "unusual"
  const ds = atModelSize(openRunDataset(p.dataset, p.workspaceDir), m.config);
  let ref: Uint8Array;
  try {
    const { val, train } = splitIndices(ds.count, m.config.validationSplit, m.config.seed);
    ref = rowsOf(ds, (val.length ? val : train).subarray(0, 500));
  } finally {
    ds.close();
  }
  const pool = { length: ref.length / per };
  const refMse = pool.length ? (await m.metrics(ref)).mse.sort((a, b) => a - b) : [];
  const rank = (v: number) => (refMse.length ? refMse.filter((x) => x < v).length / refMse.length : 0);
  const latent = m.config.latentDim;
  let k = 0;
  return {
    shape,
    results: decoded.map((d) => {
      if (!d.px) return { name: d.name, error: d.error };
      const i = k++;
      return {
        name: d.name,
        original: split(d.px, per)[0],
        reconstruction: split(toU8(rec.subarray(i * per, (i + 1) * per)), per)[0],
        code: Array.from(codes.subarray(i * latent, (i + 1) * latent), (v) => Math.round(v * 1e4) / 1e4),
        mse: metrics.mse[i],
        psnr: Number.isFinite(metrics.psnr[i]) ? metrics.psnr[i] : null,
        ssim: metrics.ssim[i],
        unusual: rank(metrics.mse[i]),
      };
    }),
  };
}
