// What generated images of a rare class buy (docs/generation.md, "More of a rare class"): the
// pieces the measurement is made of. A labelled training set in which one class is rare, real
// held-out test images, and three ways to learn from the training set — as it is, with the
// studio's class-balanced sampling (engine/data balancedOrder), and with generated images of the
// rare class added — each scored per class on the real test images, for two learners: the linear
// probe on the autoencoder's codes (evaluate/probes linearProbe) and the small convolutional
// classifier generation is measured with (feature-net buildClassifier). Nothing here generates:
// the images come from the studio's own `generate --label` path (see test/bench/rare.ts).
import { tf } from '../tf';
import { balancedOrder, evalBatchSize, toTensor, type Dataset } from '../data';
import { permutation } from '../rng';
import { linearProbe } from '../evaluate/probes';
import type { TrainedModel } from '../trained-model';
import { buildClassifier } from './feature-net';

/** How a learner sees the training images: as they are, or class-balanced (every label drawn equally often). */
export type Arm = 'real' | 'balanced';

export interface ClassScores {
  /** Accuracy on all test images. */
  accuracy: number;
  /** Accuracy per class, in the order of `classes` (NaN where a class has no test image). */
  perClass: number[];
}

/** Accuracy overall and per class of predicted class indices against true ones. */
export function classScores(pred: ArrayLike<number>, truth: ArrayLike<number>, classes: number): ClassScores {
  const right = new Array<number>(classes).fill(0);
  const seen = new Array<number>(classes).fill(0);
  let all = 0;
  for (let i = 0; i < truth.length; i++) {
    seen[truth[i]]++;
    if (pred[i] === truth[i]) {
      right[truth[i]]++;
      all++;
    }
  }
  return {
    accuracy: truth.length ? all / truth.length : NaN,
    perClass: right.map((r, c) => (seen[c] ? r / seen[c] : NaN)),
  };
}

/** Class indices (positions in `classes`) of a dataset's labels; a label not in `classes` is an error. */
export function classIndices(ds: Dataset, classes: number[]): Int32Array {
  const of = new Map(classes.map((c, i) => [c, i]));
  return Int32Array.from({ length: ds.count }, (_, i) => {
    const c = of.get(Number(ds.labels?.[i]));
    if (c === undefined) throw new Error(`image ${i} has label ${ds.labels?.[i]}, which is not one of the classes`);
    return c;
  });
}

/** The order of one epoch's training rows: shuffled, or class-balanced (draws with replacement, as the studio's balance classes). */
function epochOrder(y: Int32Array, arm: Arm, seed: number): Int32Array {
  return arm === 'balanced' ? balancedOrder(y, seed) : permutation(y.length, seed);
}

/**
 * The small convolutional classifier (conv 16 → pool → conv 32 → pool → dense 64 → softmax; seeded
 * initialisers and batch order) trained on `train` as `arm` says, scored per class on `test`.
 */
export async function classifierScores(
  train: Dataset,
  test: Dataset,
  classes: number[],
  arm: Arm,
  opts: { seed: number; epochs: number; batchSize?: number },
): Promise<ClassScores> {
  const y = classIndices(train, classes);
  const testY = classIndices(test, classes);
  const batch = opts.batchSize ?? 64;
  const model = buildClassifier(train.shape, classes.length, opts.seed);
  const optimizer = tf.train.adam(1e-3);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const order = epochOrder(y, arm, opts.seed * 1000 + epoch);
      for (let b = 0; b < order.length; b += batch) {
        const rows = order.subarray(b, b + batch);
        const x = toTensor(train, rows);
        const t = tf.tidy(() =>
          tf.oneHot(
            tf.tensor1d(
              Int32Array.from(rows, (r) => y[r]),
              'int32',
            ),
            classes.length,
          ),
        );
        await model.trainOnBatch(x, t);
        tf.dispose([x, t]);
      }
    }
    const pred = new Int32Array(test.count);
    const step = evalBatchSize(test.shape, 256);
    for (let b = 0; b < test.count; b += step) {
      const rows = Array.from({ length: Math.min(step, test.count - b) }, (_, k) => b + k);
      const p = tf.tidy(() => (model.predict(toTensor(test, rows)) as tf.Tensor).argMax(1));
      pred.set(p.dataSync() as Int32Array, b);
      p.dispose();
    }
    return classScores(pred, testY, classes.length);
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

/** The codes (posterior means for a VAE) of every image of a dataset. */
export function codesOf(m: TrainedModel, ds: Dataset): Float32Array {
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const d = m.config.latentDim;
  const out = new Float32Array(ds.count * d);
  for (let i = 0; i < ds.count; i += 512) {
    const n = Math.min(512, ds.count - i);
    out.set(m.encode(ds.images.subarray(i * size, (i + n) * size) as Uint8Array), i * d);
  }
  return out;
}

/**
 * The studio's linear probe (multinomial logistic regression on standardised codes) fitted on the
 * training codes as `arm` says — class-balanced: the rows of one balanced epoch, so rare rows repeat
 * — and scored per class on the test codes.
 */
export function probeScores(
  trainCodes: Float32Array,
  trainY: Int32Array,
  testCodes: Float32Array,
  testY: Int32Array,
  d: number,
  classes: number,
  arm: Arm,
  seed: number,
): ClassScores {
  let codes = trainCodes;
  let y = trainY;
  if (arm === 'balanced') {
    const order = balancedOrder(trainY, seed);
    codes = new Float32Array(order.length * d);
    order.forEach((r, k) => codes.set(trainCodes.subarray(r * d, (r + 1) * d), k * d));
    y = Int32Array.from(order, (r) => trainY[r]);
  }
  const train = tf.tensor2d(codes, [y.length, d]);
  const test = tf.tensor2d(testCodes, [testY.length, d]);
  try {
    const s = linearProbe({ train, test, trainY: y, testY, classes }, { seed });
    return { accuracy: s.accuracy, perClass: s.perClass.map((v) => v ?? NaN) };
  } finally {
    tf.dispose([train, test]);
  }
}

/** Two datasets of the same shape as one (images and labels one after the other). */
export function concatDatasets(a: Dataset, b: Dataset): Dataset {
  const size = a.shape[0] * a.shape[1] * a.shape[2];
  const images = new Uint8Array((a.count + b.count) * size);
  images.set(a.images.subarray(0, a.count * size) as Uint8Array);
  images.set(b.images.subarray(0, b.count * size) as Uint8Array, a.count * size);
  const labels = new Int32Array(a.count + b.count);
  labels.set(Int32Array.from(a.labels!.subarray(0, a.count)));
  labels.set(Int32Array.from(b.labels!.subarray(0, b.count)), a.count);
  return { images, labels, count: a.count + b.count, shape: a.shape };
}
