// Per-image reconstruction quality: MSE, PSNR (dB, peak 1.0) and SSIM (Wang et al. 2004:
// 11×11 Gaussian window, σ = 1.5, K1 = 0.01, K2 = 0.03, averaged over the map and channels).
import { tf } from './tf';

/** Per-image MSE of two [N,H,W,C] tensors in [0,1]. */
export function msePerImage(a: tf.Tensor, b: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.mean(tf.squaredDifference(a, b), [1, 2, 3]) as tf.Tensor1D);
}

/** PSNR in dB from MSE; identical images give Infinity. */
export const psnrFromMse = (mse: number): number => (mse <= 0 ? Infinity : 10 * Math.log10(1 / mse));

/** A normalised size × size Gaussian kernel for a depthwise convolution over `channels` channels. */
export function gaussianWindow(size: number, sigma: number, channels: number): tf.Tensor4D {
  const g: number[] = [];
  const half = (size - 1) / 2;
  for (let i = 0; i < size; i++) g.push(Math.exp(-((i - half) ** 2) / (2 * sigma * sigma)));
  const s = g.reduce((a, b) => a + b, 0);
  const k = g.map((v) => v / s);
  const w: number[] = [];
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) for (let c = 0; c < channels; c++) w.push(k[i] * k[j]);
  return tf.tensor4d(w, [size, size, channels, 1]);
}

/** Per-image mean SSIM of two [N,H,W,C] tensors in [0,1]. Images smaller than 11 px use a smaller window. */
export function ssimPerImage(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => tf.mean(ssimMap(a, b), [1, 2, 3]) as tf.Tensor1D);
}

/** The SSIM map of two [N,H,W,C] tensors in [0,1]: [N, H−k+1, W−k+1, C] for the k×k window (valid positions only). */
export function ssimMap(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w, c] = a.shape;
    const size = Math.min(11, h, w) % 2 === 1 ? Math.min(11, h, w) : Math.min(11, h, w) - 1;
    const win = gaussianWindow(size, 1.5, c);
    return ssimWith(a, b, (x) => tf.depthwiseConv2d(x, win, 1, 'valid'));
  });
}

/**
 * SSIM of `a` and `b` per position and channel, with `filt` the local (Gaussian) mean: K1 = 0.01,
 * K2 = 0.03 for pixels in [0,1]. Shared by the metric (valid positions) and the anomaly maps
 * (borders reflected, inspect/maps.ts). Call inside a tidy.
 */
export function ssimWith(a: tf.Tensor4D, b: tf.Tensor4D, filt: (x: tf.Tensor4D) => tf.Tensor4D): tf.Tensor4D {
  const C1 = 0.01 ** 2;
  const C2 = 0.03 ** 2;
  const muA = filt(a);
  const muB = filt(b);
  const muA2 = tf.square(muA);
  const muB2 = tf.square(muB);
  const muAB = tf.mul(muA, muB);
  const sA = tf.sub(filt(tf.square(a) as tf.Tensor4D), muA2);
  const sB = tf.sub(filt(tf.square(b) as tf.Tensor4D), muB2);
  const sAB = tf.sub(filt(tf.mul(a, b) as tf.Tensor4D), muAB);
  const num = tf.mul(tf.add(tf.mul(2, muAB), C1), tf.add(tf.mul(2, sAB), C2));
  const den = tf.mul(tf.add(tf.add(muA2, muB2), C1), tf.add(tf.add(sA, sB), C2));
  return tf.div(num, den) as tf.Tensor4D;
}

export interface ImageMetrics {
  mse: number[];
  psnr: number[];
  ssim: number[];
}

/**
 * Pixels measured in one go: the SSIM holds about twenty maps of its batch's size at once, so big
 * images are measured a few at a time — 256 images of 28×28 in one go, 21 of 64×64×3. Every value
 * is per image, so that changes nothing but, on a few images, the last bit of the SSIM's float32
 * rounding (TensorFlow's depthwise convolution sums in another order for another batch size).
 */
const METRICS_CHUNK_PIXELS = 1 << 18;

export async function imageMetrics(a: tf.Tensor4D, b: tf.Tensor4D): Promise<ImageMetrics> {
  const [n, h, w, c] = a.shape;
  const per = Math.max(1, Math.floor(METRICS_CHUNK_PIXELS / (h * w * c)));
  const mse: number[] = [];
  const ssim: number[] = [];
  for (let i = 0; i < n; i += per) {
    const whole = i === 0 && n <= per;
    const size = Math.min(per, n - i);
    const [m, s] = tf.tidy(() => {
      const x = whole ? a : a.slice(i, size);
      const y = whole ? b : b.slice(i, size);
      return [msePerImage(x, y), ssimPerImage(x, y)];
    });
    mse.push(...(await m.data()));
    ssim.push(...(await s.data()));
    tf.dispose([m, s]);
  }
  return { mse, psnr: mse.map(psnrFromMse), ssim };
}
