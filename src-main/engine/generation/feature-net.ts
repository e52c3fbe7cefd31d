// The feature space sample quality is measured in: a small convolutional classifier trained on the
// labelled dataset itself (for digits the usual stand-in for FID's Inception network), whose
// penultimate layer (`features`, FEATURE_DIM units) gives each image its feature vector.
// conv 3×3×16 → max-pool → conv 3×3×32 → max-pool → dense FEATURE_DIM (ReLU) → softmax.
// Trained once per dataset and seeded (initialisers and batch order), so the same dataset gives the
// same network; cached in the workspace under feature-nets/<dataset>-<fingerprint>/ (a TF.js model
// and info.json with its settings and held-out accuracy), where the fingerprint covers the pixels
// and labels: one network per version of a dataset.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../tf';
import { evalBatchSize, toTensor, type Dataset } from '../data';
import { permutation } from '../rng';
import { writeDirAtomic } from '../../fs-safety/atomic';

export const FEATURE_DIM = 64;
const VERSION = 1;

export interface FeatureNetOptions {
  seed?: number;
  epochs?: number;
  /** Train on at most this many images (a seeded subset). */
  maxImages?: number;
  batchSize?: number;
}

export interface FeatureNetInfo {
  version: number;
  dataset: string;
  fingerprint: string;
  shape: [number, number, number];
  /** Dataset labels in the order of the classifier's outputs. */
  classes: number[];
  seed: number;
  epochs: number;
  /** The `maxImages` setting it was trained with. */
  maxImages: number;
  trainImages: number;
  heldOutImages: number;
  /** Accuracy on the images it did not train on. */
  heldOutAccuracy: number;
  createdAt: string;
}

export class FeatureNet {
  readonly dim = FEATURE_DIM;
  private readonly head: tf.LayersModel;

  constructor(
    private readonly model: tf.LayersModel,
    readonly info: FeatureNetInfo,
  ) {
    this.head = tf.model({ inputs: model.inputs, outputs: model.getLayer('features').output as tf.SymbolicTensor });
  }

  /** Feature vectors (n × FEATURE_DIM) of n images (float in [0,1] or uint8, N·H·W·C). */
  features(images: Float32Array | Uint8Array, n: number): Float32Array {
    const shape = this.info.shape;
    const size = shape[0] * shape[1] * shape[2];
    if (images.length < n * size) throw new Error(`expected ${n} images of ${shape.join('×')}`);
    const out = new Float32Array(n * FEATURE_DIM);
    const step = evalBatchSize(shape, 256);
    for (let i = 0; i < n; i += step) {
      const m = Math.min(step, n - i);
      const px = images.subarray(i * size, (i + m) * size);
      const f = tf.tidy(() => {
        const x = tf.tensor4d(px instanceof Uint8Array ? Float32Array.from(px, (v) => v / 255) : px, [m, ...shape]);
        return this.head.predict(x) as tf.Tensor;
      });
      out.set(f.dataSync() as Float32Array, i * FEATURE_DIM);
      f.dispose();
    }
    return out;
  }

  /** The dataset label the classifier gives each of n images (float in [0,1] or uint8). */
  classify(images: Float32Array | Uint8Array, n: number): Int32Array {
    const shape = this.info.shape;
    const size = shape[0] * shape[1] * shape[2];
    const out = new Int32Array(n);
    const step = evalBatchSize(shape, 256);
    for (let i = 0; i < n; i += step) {
      const m = Math.min(step, n - i);
      const px = images.subarray(i * size, (i + m) * size);
      const p = tf.tidy(() =>
        (
          this.model.predict(
            tf.tensor4d(px instanceof Uint8Array ? Float32Array.from(px, (v) => v / 255) : px, [m, ...shape]),
          ) as tf.Tensor
        ).argMax(1),
      );
      p.dataSync().forEach((c, k) => (out[i + k] = this.info.classes[c]));
      p.dispose();
    }
    return out;
  }

  /** Writes the classifier (TF.js layers format) into `dir`. */
  async save(dir: string): Promise<void> {
    await this.model.save(`file://${dir}`);
  }

  dispose(): void {
    this.model.dispose();
  }
}

export function buildClassifier(shape: [number, number, number], classes: number, seed: number): tf.Sequential {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 101 + k });
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      inputShape: shape,
      filters: 16,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(1),
    }),
  );
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(
    tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2) }),
  );
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: FEATURE_DIM, activation: 'relu', name: 'features', kernelInitializer: init(3) }));
  m.add(tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init(4) }));
  return m;
}

/** The labels of a dataset that count as classes (at least two, or it is not labelled for this purpose). */
export function datasetClasses(ds: Dataset): number[] {
  if (!ds.labels) return [];
  const seen = new Set<number>();
  for (let i = 0; i < ds.count; i++) if (ds.labels[i] >= 0) seen.add(ds.labels[i]);
  return [...seen].sort((a, b) => a - b);
}

function settings(opts: FeatureNetOptions) {
  return {
    seed: opts.seed ?? 1,
    epochs: opts.epochs ?? 3,
    maxImages: opts.maxImages ?? 6000,
    batchSize: opts.batchSize ?? 64,
  };
}

/** A hash of the dataset's pixels, labels and shape: a changed dataset gets a new network. */
export function featureNetFingerprint(ds: Dataset): string {
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const h = crypto.createHash('sha256');
  h.update(JSON.stringify({ v: VERSION, shape: ds.shape, count: ds.count }));
  const px = ds.images.subarray(0, ds.count * size);
  h.update(new Uint8Array(px.buffer, px.byteOffset, px.byteLength));
  // labels as int32 whatever array they came in (the trainer's MNIST has uint8 labels, the store int32)
  if (ds.labels) h.update(new Uint8Array(Int32Array.from(ds.labels.subarray(0, ds.count)).buffer));
  return h.digest('hex').slice(0, 16);
}

/** Trains the classifier on a labelled dataset (seeded), reporting its held-out accuracy. */
export async function trainFeatureNet(ds: Dataset, name: string, opts: FeatureNetOptions = {}): Promise<FeatureNet> {
  const s = settings(opts);
  const classes = datasetClasses(ds);
  if (classes.length < 2)
    throw new Error(`Dataset '${name}' has fewer than two labels, so no classifier can be trained on it.`);
  const classOf = new Map(classes.map((c, i) => [c, i]));
  const labels = ds.labels!;
  const order = Int32Array.from(permutation(ds.count, s.seed ^ 0xfea7)).filter((i) => labels[i] >= 0);
  const nHeld = Math.min(2000, Math.floor(order.length / 10));
  const held = order.subarray(0, nHeld);
  const train = order.subarray(nHeld, nHeld + Math.min(s.maxImages, order.length - nHeld));
  const model = buildClassifier(ds.shape, classes.length, s.seed);
  const optimizer = tf.train.adam(1e-3);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  try {
    for (let epoch = 0; epoch < s.epochs; epoch++) {
      const p = permutation(train.length, s.seed + epoch);
      for (let b = 0; b < train.length; b += s.batchSize) {
        const rows = Array.from(p.subarray(b, b + s.batchSize), (k) => train[k]);
        const x = toTensor(ds, rows);
        const y = tf.tidy(() =>
          tf.oneHot(
            tf.tensor1d(
              Int32Array.from(rows, (r) => classOf.get(labels[r])!),
              'int32',
            ),
            classes.length,
          ),
        );
        await model.trainOnBatch(x, y);
        tf.dispose([x, y]);
      }
    }
    let right = 0;
    const step = evalBatchSize(ds.shape, 256);
    for (let b = 0; b < held.length; b += step) {
      const rows = held.subarray(b, b + step);
      const pred = tf.tidy(() => (model.predict(toTensor(ds, rows)) as tf.Tensor).argMax(1));
      const got = pred.dataSync();
      pred.dispose();
      rows.forEach((r, k) => (right += got[k] === classOf.get(labels[r]) ? 1 : 0));
    }
    const info: FeatureNetInfo = {
      version: VERSION,
      dataset: name,
      fingerprint: featureNetFingerprint(ds),
      maxImages: s.maxImages,
      shape: ds.shape,
      classes,
      seed: s.seed,
      epochs: s.epochs,
      trainImages: train.length,
      heldOutImages: held.length,
      heldOutAccuracy: held.length ? right / held.length : NaN,
      createdAt: new Date().toISOString(),
    };
    return new FeatureNet(model, info);
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    optimizer.dispose();
  }
}

const cacheDir = (ws: string, key: string, fingerprint: string) =>
  path.join(ws, 'feature-nets', `${key.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 60)}-${fingerprint}`);

/**
 * The dataset's feature network: loaded from the workspace's cache when one was trained on exactly
 * these images and labels (and, when `opts` sets any, with those settings), otherwise trained now
 * (seconds to a minute) and cached, replacing an older one for the same images. `trained` says which.
 */
export async function featureNetFor(
  ws: string,
  key: string,
  ds: Dataset,
  opts: FeatureNetOptions = {},
): Promise<{ net: FeatureNet; trained: boolean; dir: string }> {
  const dir = cacheDir(ws, key, featureNetFingerprint(ds));
  const infoFile = path.join(dir, 'info.json');
  const want = settings(opts);
  const matches = (i: FeatureNetInfo) =>
    i.version === VERSION &&
    (opts.seed === undefined || i.seed === want.seed) &&
    (opts.epochs === undefined || i.epochs === want.epochs) &&
    (opts.maxImages === undefined || i.maxImages === want.maxImages);
  if (fs.existsSync(infoFile) && fs.existsSync(path.join(dir, 'model.json'))) {
    try {
      const info = JSON.parse(fs.readFileSync(infoFile, 'utf8')) as FeatureNetInfo;
      if (matches(info))
        return {
          net: new FeatureNet(await tf.loadLayersModel(`file://${path.join(dir, 'model.json')}`), info),
          trained: false,
          dir,
        };
    } catch {
      // an unreadable cache entry is trained again (and replaced)
    }
  }
  const net = await trainFeatureNet(ds, key, opts);
  await writeDirAtomic(dir, async (tmp) => {
    await net.save(tmp);
    fs.writeFileSync(path.join(tmp, 'info.json'), JSON.stringify(net.info, null, 2));
  });
  return { net, trained: true, dir };
}
