// Probes that say how much a representation (codes, raw pixels, PCA) knows about the labels: a
// linear probe (multinomial logistic regression, L2-regularised, features standardised on the
// training rows, full-batch Adam on tfjs's native backend) and k-nearest neighbours (Euclidean,
// majority vote, ties to the nearest). Both are fitted on the training rows and scored on held-out
// rows only. Confusion matrices have true labels as rows and predictions as columns.
import { tf } from '../tf';
import type { ProbeScore } from '../../contract/evaluate';

/** A probe's score: the contract's ProbeScore (src-main/contract/evaluate.ts); per-class accuracy is NaN where a label has no held-out row. */
export type { ProbeScore };

export interface ProbeData {
  /** [nTrain, d] and [nTest, d] features. */
  train: tf.Tensor2D;
  test: tf.Tensor2D;
  /** Class index (0..classes−1) per row. */
  trainY: Int32Array;
  testY: Int32Array;
  classes: number;
}

export function score(pred: ArrayLike<number>, truth: ArrayLike<number>, classes: number): ProbeScore {
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let right = 0;
  for (let i = 0; i < truth.length; i++) {
    confusion[truth[i]][pred[i]]++;
    if (pred[i] === truth[i]) right++;
  }
  const perClass = confusion.map((row, c) => {
    const n = row.reduce((a, b) => a + b, 0);
    return n ? row[c] / n : NaN;
  });
  return { accuracy: truth.length ? right / truth.length : NaN, confusion, perClass };
}

/** Multinomial logistic regression on standardised features; returns the held-out score. */
export function linearProbe(
  data: ProbeData,
  opts: { iterations?: number; learningRate?: number; l2?: number; seed?: number } = {},
): ProbeScore {
  const iterations = opts.iterations ?? 300;
  const l2 = opts.l2 ?? 1e-4;
  const d = data.train.shape[1];
  const [mean, std] = tf.tidy(() => {
    const m = tf.moments(data.train, 0);
    return [tf.keep(m.mean), tf.keep(tf.sqrt(tf.add(m.variance, 1e-6)))];
  });
  const xs = tf.tidy(() => tf.div(tf.sub(data.train, mean), std) as tf.Tensor2D);
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(data.trainY, 'int32'), data.classes).toFloat());
  // made inside tidy so the zeros they start from are freed
  const w = tf.tidy(() => tf.variable(tf.zeros([d, data.classes])));
  const b = tf.tidy(() => tf.variable(tf.zeros([data.classes])));
  const opt = tf.train.adam(opts.learningRate ?? 0.05);
  for (let i = 0; i < iterations; i++) {
    tf.tidy(() => {
      opt.minimize(
        () => {
          const logits = tf.add(tf.matMul(xs, w), b);
          const ce = tf.losses.softmaxCrossEntropy(ys, logits);
          return tf.add(ce, tf.mul(l2, tf.sum(tf.square(w)))) as tf.Scalar;
        },
        false,
        [w, b],
      );
    });
  }
  const pred = tf.tidy(() => tf.argMax(tf.add(tf.matMul(tf.div(tf.sub(data.test, mean), std), w), b), 1));
  const p = pred.dataSync() as Int32Array;
  tf.dispose([mean, std, xs, ys, w, b, pred]);
  opt.dispose();
  return score(p, data.testY, data.classes);
}

/** k-nearest-neighbour classification of the held-out rows by the training rows (Euclidean). */
export function knnProbe(data: ProbeData, k = 5): ProbeScore {
  const nTest = data.test.shape[0];
  const pred = new Int32Array(nTest);
  const trainSq = tf.tidy(() => tf.sum(tf.square(data.train), 1));
  const chunk = 512;
  for (let i = 0; i < nTest; i += chunk) {
    const size = Math.min(chunk, nTest - i);
    const idx = tf.tidy(() => {
      const q = data.test.slice([i, 0], [size, -1]);
      // ‖q − t‖² up to the per-row constant ‖q‖²: ‖t‖² − 2 q·t
      const dist = tf.sub(trainSq, tf.mul(2, tf.matMul(q, data.train, false, true)));
      return tf.topk(tf.neg(dist), Math.min(k, data.train.shape[0])).indices;
    });
    const nn = idx.dataSync() as Int32Array;
    const kk = idx.shape[1] as number;
    idx.dispose();
    for (let r = 0; r < size; r++) {
      const votes = new Map<number, number>();
      let best = data.trainY[nn[r * kk]];
      let bestVotes = 0;
      for (let j = 0; j < kk; j++) {
        const y = data.trainY[nn[r * kk + j]];
        const v = (votes.get(y) ?? 0) + 1;
        votes.set(y, v);
        if (v > bestVotes) {
          bestVotes = v;
          best = y;
        }
      }
      pred[i + r] = best;
    }
  }
  trainSq.dispose();
  return score(pred, data.testY, data.classes);
}
