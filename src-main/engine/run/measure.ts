// Looking at the model while and after it trains: the validation loss after each epoch, the
// preview images, and the end-of-run metrics on each split.
import { tf } from '../tf';
import type { ModelConfig } from '../config';
import type { Autoencoder } from '../models';
import { applyNoise } from '../noise';
import { BatchSource, evalBatchSize, labelCounts, toTensor, type TrainingData } from '../data';
import { imageMetrics } from '../metrics';
import { objective } from '../objective';
import type { EndMetrics, SplitMetrics } from '../train';
import type { RunContext } from './context';
import type { RunImages } from './images';

/** The mean objective (with the epoch's β) over the validation split, in chunks of `chunk`; null without one. */
export async function validateSplit(
  run: RunContext,
  images: BatchSource | undefined,
  chunk: number,
): Promise<number | null> {
  if (!images) return null;
  run.syncModel();
  const { ae, c, cE } = run;
  let sum = 0;
  const n = images.count;
  for (let i = 0; i < n; i += chunk) {
    const size = Math.min(chunk, n - i);
    const l = tf.tidy(() => {
      const target = images.slice(i, size);
      const input = applyNoise(target, c.noise, c.seed * 7919 + i);
      return tf.mul(objective(ae, cE, input, target, c.seed + i), size);
    });
    sum += (await l.data())[0];
    l.dispose();
  }
  return sum / n;
}

/** The finished model measured on each split: objective, MSE, PSNR, SSIM, per label. */
export async function endOfRunMetrics(run: RunContext, images: RunImages): Promise<EndMetrics> {
  const { ae, cE } = run;
  const { dataset, split } = images;
  const labels = dataset.labels;
  const trainSome = split.train.subarray(0, Math.min(split.train.length, 2000));
  const test = split.test.length ? await measureSplit(ae, cE, dataset, split.test) : null;
  return {
    train: await measureSplit(ae, cE, dataset, trainSome),
    val: split.val.length ? await measureSplit(ae, cE, dataset, split.val) : null,
    test,
    trainLabelCounts: labels
      ? [...labelCounts(split.train, labels)].map(([label, count]) => ({ label, count }))
      : undefined,
  };
}

/** Objective, MSE, PSNR, SSIM (means) and per-label MSE of the model on `indices` of the dataset, in batches. */
export async function measureSplit(
  ae: Autoencoder,
  c: ModelConfig,
  ds: TrainingData,
  indices: Int32Array,
): Promise<SplitMetrics> {
  const n = indices.length;
  let loss = 0;
  const mse: number[] = [];
  const psnr: number[] = [];
  const ssim: number[] = [];
  const batch = evalBatchSize(ds.shape, 256);
  const images = new BatchSource(ds, indices, batch);
  for (let i = 0; i < n; i += batch) {
    const x = images.slice(i, Math.min(batch, n - i));
    const [rec, l] = tf.tidy(() => {
      const target = x;
      const input = applyNoise(target, c.noise, c.seed * 7919 + i);
      const enc = ae.encoder.predict(input) as tf.Tensor | tf.Tensor[];
      return [
        ae.decoder.predict(Array.isArray(enc) ? enc[0] : enc) as tf.Tensor4D,
        tf.mul(objective(ae, c, input, target, c.seed + i), x.shape[0]),
      ];
    });
    const m = await imageMetrics(x, rec);
    loss += (await l.data())[0];
    mse.push(...m.mse);
    psnr.push(...m.psnr.map((v) => Math.min(100, v)));
    ssim.push(...m.ssim);
    tf.dispose([x, rec, l]);
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);
  let perLabel: SplitMetrics['perLabel'];
  if (ds.labels) {
    const sums = new Map<number, { count: number; sum: number }>();
    for (let k = 0; k < n; k++) {
      const lab = ds.labels[indices[k]];
      const e = sums.get(lab) ?? { count: 0, sum: 0 };
      e.count++;
      e.sum += mse[k];
      sums.set(lab, e);
    }
    perLabel = [...sums.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([label, e]) => ({ label, count: e.count, mse: e.sum / e.count }));
  }
  return { count: n, loss: loss / Math.max(1, n), mse: mean(mse), psnr: mean(psnr), ssim: mean(ssim), perLabel };
}

const toUint8 = (t: tf.Tensor): Uint8Array =>
  new Uint8Array(tf.tidy(() => tf.round(tf.mul(tf.clipByValue(t, 0, 1), 255))).dataSync());

/** The six preview images (original, noisy, reconstruction) the Train view shows, sent as 'preview' events. */
export class Preview {
  private readonly x: tf.Tensor4D;

  constructor(
    private readonly run: RunContext,
    images: RunImages,
  ) {
    this.x = toTensor(images.dataset, images.previewRows());
  }

  show(epoch: number, batch: number): void {
    const { run, x } = this;
    const { c, ae } = run;
    const [h, w, ch] = c.inputShape;
    run.syncModel();
    const images = tf.tidy(() => {
      const noisy = applyNoise(x, c.noise, c.seed + 7);
      const enc = ae.encoder.predict(noisy) as tf.Tensor | tf.Tensor[];
      const rec = ae.decoder.predict(Array.isArray(enc) ? enc[0] : enc) as tf.Tensor;
      return [x, noisy, rec].map((t) => tf.unstack(t).map(toUint8));
    });
    run.emit({
      type: 'preview',
      epoch,
      batch,
      width: w,
      height: h,
      channels: ch,
      originals: images[0],
      noisy: images[1],
      reconstructions: images[2],
    });
  }

  dispose(): void {
    this.x.dispose();
  }
}
