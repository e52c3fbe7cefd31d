// The Gaussian a plain autoencoder samples from: per-dimension mean and standard deviation of
// the training set's codes (a diagonal Gaussian fitted to the latents; VAEs use N(0, I)).
import { tf } from './tf';
import { encodeMean, type Autoencoder } from './models';

export interface LatentStats {
  mean: number[];
  std: number[];
}

export async function fitLatentStats(ae: Autoencoder, x: tf.Tensor, batchSize = 256): Promise<LatentStats> {
  const n = x.shape[0];
  let sum: number[] | undefined;
  let sumSq: number[] | undefined;
  for (let i = 0; i < n; i += batchSize) {
    const size = Math.min(batchSize, n - i);
    const [s, s2] = tf.tidy((): tf.Tensor[] => {
      const z = encodeMean(ae, x.slice(i, size));
      return [tf.sum(z, 0), tf.sum(tf.square(z), 0)];
    });
    const a = Array.from(await s.data());
    const b = Array.from(await s2.data());
    s.dispose();
    s2.dispose();
    sum = sum ? sum.map((v, k) => v + a[k]) : a;
    sumSq = sumSq ? sumSq.map((v, k) => v + b[k]) : b;
  }
  const mean = (sum ?? []).map((v) => v / n);
  const std = (sumSq ?? []).map((v, k) => Math.sqrt(Math.max(0, v / n - mean[k] ** 2)));
  return { mean, std };
}
