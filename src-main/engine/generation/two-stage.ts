// The second-stage VAE of Dai & Wipf ("Diagnosing and enhancing VAE models", ICLR 2019): a small
// dense VAE trained on the first model's codes, whose own prior N(0, I) is then decoded into codes
// that follow the codes' real (non-Gaussian) density more closely than any one Gaussian. As in the
// paper, the decoder's output variance γ² is learned (log γ a trainable scalar), which lets the
// second stage fit the codes tightly, and drawing takes the decoder's mean (no γ noise added).
// Codes are standardised first (per-dimension mean and std) and un-standardised on the way out.
//
// γ starts at 0.3, not 1. On standardised codes (unit variance per dimension) γ = 1 with a decoder
// that outputs the mean and an encoder that outputs the prior is a stationary point of the loss
// (‖z − ẑ‖²/(2γ²) + d·log γ + KL = d/2, KL = 0): a VAE started there with γ = 1 stays collapsed
// when the codes are close to Gaussian — drawing then returns the codes' mean every time, which is
// what `bench:generation` measured (Fréchet 139–282, recall ≈ 0). Started at γ = 0.3 the
// reconstruction term dominates at first, the latent is used, and γ then settles at the error it
// reaches. The MLPs are wider (16·d units, at least 256, at most 512) and trains for about 3,000 steps.
//
// Trained with tfjs (variables initialised from a seeded generator, batches in a seeded order);
// the fitted decoder is plain arrays, so drawing needs no TensorFlow.
import { tf } from '../tf';
import { mulberry32, permutation } from '../rng';

export interface TwoStageOptions {
  seed?: number;
  hidden?: number;
  /** Epochs over the codes; by default enough for about 3,000 steps. */
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** γ at the start of training (0.3; see the top of this file). */
  initialGamma?: number;
}

export interface TwoStageParams {
  hidden: number;
  epochs: number;
  /** The standardisation: code = shift + scale · output. */
  shift: number[];
  scale: number[];
  logGamma: number;
  /** Decoder: d → hidden (ReLU) → hidden (ReLU) → d; weights row-major [in, out]. */
  decoder: { w1: number[]; b1: number[]; w2: number[]; b2: number[]; w3: number[]; b3: number[] };
  /** The training loss of the last epoch (per code). */
  finalLoss: number;
}

function glorot(rows: number, cols: number, rand: () => number): Float32Array {
  const limit = Math.sqrt(6 / (rows + cols));
  return Float32Array.from({ length: rows * cols }, () => (2 * rand() - 1) * limit);
}

export async function fitTwoStage(
  codes: Float64Array,
  n: number,
  d: number,
  opts: TwoStageOptions = {},
): Promise<TwoStageParams> {
  const seed = opts.seed ?? 1;
  const hidden = opts.hidden ?? Math.min(512, Math.max(256, 16 * d));
  const batchSize = Math.min(opts.batchSize ?? 100, n);
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const epochs = opts.epochs ?? Math.min(300, Math.max(10, Math.ceil(3000 / stepsPerEpoch)));
  const shift = new Float64Array(d);
  const scale = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) shift[k] += codes[i * d + k] / n;
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) scale[k] += (codes[i * d + k] - shift[k]) ** 2 / n;
  for (let k = 0; k < d; k++) scale[k] = Math.sqrt(scale[k]) || 1;
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) x[i * d + k] = (codes[i * d + k] - shift[k]) / scale[k];

  const rand = mulberry32(seed ^ 0x2575);
  const v = (a: Float32Array, shape: number[]) => tf.tidy(() => tf.variable(tf.tensor(a, shape), true));
  const zeros = (len: number) => new Float32Array(len);
  const enc = {
    w1: v(glorot(d, hidden, rand), [d, hidden]),
    b1: v(zeros(hidden), [hidden]),
    w2: v(glorot(hidden, hidden, rand), [hidden, hidden]),
    b2: v(zeros(hidden), [hidden]),
  };
  const head = {
    wm: v(glorot(hidden, d, rand), [hidden, d]),
    bm: v(zeros(d), [d]),
    wv: v(glorot(hidden, d, rand), [hidden, d]),
    bv: v(zeros(d), [d]),
  };
  const dec = {
    w1: v(glorot(d, hidden, rand), [d, hidden]),
    b1: v(zeros(hidden), [hidden]),
    w2: v(glorot(hidden, hidden, rand), [hidden, hidden]),
    b2: v(zeros(hidden), [hidden]),
    w3: v(glorot(hidden, d, rand), [hidden, d]),
    b3: v(zeros(d), [d]),
  };
  const logGamma = tf.tidy(() => tf.variable(tf.scalar(Math.log(opts.initialGamma ?? 0.3)), true));
  const vars = [...Object.values(enc), ...Object.values(head), ...Object.values(dec), logGamma];
  const optimizer = tf.train.adam(opts.learningRate ?? 1e-3);
  const dense = (h: tf.Tensor, w: tf.Variable, b: tf.Variable) =>
    tf.add(tf.matMul(h as tf.Tensor2D, w as tf.Variable<tf.Rank.R2>), b);
  let finalLoss = NaN;
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = permutation(n, seed + epoch);
      let sum = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        const rows = order.subarray(s * batchSize, Math.min(n, (s + 1) * batchSize));
        const batch = new Float32Array(rows.length * d);
        rows.forEach((r, i) => batch.set(x.subarray(r * d, r * d + d), i * d));
        const noise = new Float32Array(rows.length * d);
        for (let i = 0; i < noise.length; i += 2) {
          const u = 1 - rand();
          const w = rand();
          const r = Math.sqrt(-2 * Math.log(u));
          noise[i] = r * Math.cos(2 * Math.PI * w);
          if (i + 1 < noise.length) noise[i + 1] = r * Math.sin(2 * Math.PI * w);
        }
        const loss = optimizer.minimize(
          () => {
            const xb = tf.tensor2d(batch, [rows.length, d]);
            const h = tf.relu(dense(tf.relu(dense(xb, enc.w1, enc.b1)), enc.w2, enc.b2));
            const mu = dense(h, head.wm, head.bm);
            const lv = tf.clipByValue(dense(h, head.wv, head.bv), -12, 6);
            const z = tf.add(mu, tf.mul(tf.exp(tf.mul(lv, 0.5)), tf.tensor2d(noise, [rows.length, d])));
            const out = dense(tf.relu(dense(tf.relu(dense(z, dec.w1, dec.b1)), dec.w2, dec.b2)), dec.w3, dec.b3);
            const lg = tf.clipByValue(logGamma, -6, 3);
            const rec = tf.add(
              tf.div(tf.sum(tf.square(tf.sub(xb, out)), 1), tf.mul(2, tf.exp(tf.mul(2, lg)))),
              tf.mul(d, lg),
            );
            const kl = tf.mul(0.5, tf.sum(tf.sub(tf.sub(tf.add(tf.square(mu), tf.exp(lv)), 1), lv), 1));
            return tf.mean(tf.add(rec, kl)) as tf.Scalar;
          },
          true,
          vars,
        );
        sum += (await loss!.data())[0] * rows.length;
        loss!.dispose();
      }
      finalLoss = sum / n;
      if (!Number.isFinite(finalLoss))
        throw new Error('The second-stage VAE diverged (its loss is not a number); try another sampler.');
    }
    const arr = async (t: tf.Tensor) => Array.from(await t.data());
    return {
      hidden,
      epochs,
      shift: Array.from(shift),
      scale: Array.from(scale),
      logGamma: Math.max(-6, Math.min(3, (await logGamma.data())[0])),
      decoder: {
        w1: await arr(dec.w1),
        b1: await arr(dec.b1),
        w2: await arr(dec.w2),
        b2: await arr(dec.b2),
        w3: await arr(dec.w3),
        b3: await arr(dec.b3),
      },
      finalLoss,
    };
  } finally {
    tf.dispose(vars);
    optimizer.dispose();
  }
}

/** Decodes standard-normal draws `eps` (n × d) through the second stage's decoder into codes. */
export function drawTwoStage(p: TwoStageParams & { dim: number }, n: number, eps: Float64Array): Float32Array {
  const d = p.dim;
  const H = p.hidden;
  const { w1, b1, w2, b2, w3, b3 } = p.decoder;
  const out = new Float32Array(n * d);
  const h1 = new Float64Array(H);
  const h2 = new Float64Array(H);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < H; j++) {
      let s = b1[j];
      for (let k = 0; k < d; k++) s += eps[i * d + k] * w1[k * H + j];
      h1[j] = Math.max(0, s);
    }
    for (let j = 0; j < H; j++) {
      let s = b2[j];
      for (let k = 0; k < H; k++) s += h1[k] * w2[k * H + j];
      h2[j] = Math.max(0, s);
    }
    for (let j = 0; j < d; j++) {
      let s = b3[j];
      for (let k = 0; k < H; k++) s += h2[k] * w3[k * d + j];
      out[i * d + j] = p.shift[j] + p.scale[j] * s;
    }
  }
  return out;
}
