// The Gallery's computations inside the trainer process: a trained run's model (cached), its
// validation images, and what the model makes of them. Returns plain data (base64 pixels).
import { applyNoise, imageMetrics, loadTrained, splitIndices, type TrainedModel } from '../engine';
import { tf } from '../engine/tf';
import { loadRunDataset } from './runs';
import { imagesToBase64 as split } from '../datasets/base64';
import type { MethodParams } from './protocol';

const cache = new Map<string, TrainedModel>();

async function modelFor(runDir: string): Promise<TrainedModel> {
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
}

const toU8 = (f: Float32Array) => Uint8Array.from(f, (v) => Math.max(0, Math.min(255, Math.round(v * 255))));

export async function galleryOp(p: MethodParams<'gallery'>): Promise<unknown> {
  const m = await modelFor(p.runDir);
  const ds = loadRunDataset(p.dataset, p.workspaceDir);
  const shape = m.config.inputShape;
  const per = shape[0] * shape[1] * shape[2];
  const { val, train } = splitIndices(ds.count, m.config.validationSplit, m.config.seed);
  const pool = val.length ? val : train;
  const pick = (n: number) => {
    const idx = pool.subarray(0, Math.min(n, pool.length));
    const out = new Uint8Array(idx.length * per);
    idx.forEach((i, k) => out.set(ds.images.subarray(i * per, (i + 1) * per) as Uint8Array, k * per));
    return { images: out, labels: Array.from(idx, (i) => Number(ds.labels?.[i] ?? 0)) };
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
        shape,
        originals: split(images, per),
        noisy: split(toU8(noisyData), per),
        reconstructions: split(toU8(rec), per),
        mse: metrics.mse,
        psnr: metrics.psnr.map((v) => (Number.isFinite(v) ? v : null)),
        ssim: metrics.ssim,
      };
    }
    case 'samples':
      return { shape, images: split(toU8(m.sample(params.count, params.seed)), per) };
    case 'worst': {
      const { images } = pick(500);
      const worst = await m.worst(images, params.count);
      const originals = new Uint8Array(worst.length * per);
      worst.forEach((w, k) => originals.set(images.subarray(w.index * per, (w.index + 1) * per), k * per));
      return { shape, originals: split(originals, per), reconstructions: split(toU8(m.reconstruct(originals)), per), mse: worst.map((w) => w.mse) };
    }
    case 'latent': {
      const { images, labels } = pick(params.max);
      const proj = m.project2d(images, labels);
      // the stored names, by label number ('' — images that sat in no sub-folder — says so)
      const maxLabel = labels.reduce((a, l) => Math.max(a, l), -1);
      const labelNames = Array.from({ length: Math.max(ds.labelNames.length, maxLabel + 1) }, (_, l) => ds.labelNames[l] || (ds.labelNames[l] === '' ? '(no label)' : String(l)));
      // the images too, so hovering a point shows it (capped: 1,500 MNIST digits are 1.2 MB)
      const withImages = Math.min(labels.length, Math.floor(4_000_000 / per));
      return { points: Array.from(proj.points), labels, labelNames, method: proj.method, explained: proj.explained, shape, images: split(images.subarray(0, withImages * per), per) };
    }
    case 'manifold':
      return { shape, images: split(toU8(m.manifold(params.grid)), per) };
    case 'interpolate': {
      const { images } = pick(Math.max(params.a, params.b) + 1);
      const n = images.length / per;
      if (params.a >= n || params.b >= n) throw new Error(`there are only ${n} validation images`);
      const img = (i: number) => images.subarray(i * per, (i + 1) * per);
      return { shape, images: split(toU8(m.interpolate(img(params.a), img(params.b), params.steps)), per) };
    }
    default:
      throw new Error(`unknown gallery view '${p.op}'`);
  }
}
