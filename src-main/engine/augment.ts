// Augmentation for small datasets: each training batch is flipped left-right, shifted,
// rotated and brightened at random, per image, before noise is added — the target is the
// augmented clean image, so the model learns the variations instead of memorising the few images.
// Geometry is one native gather with nearest-neighbour source indices made here (TensorFlow's
// ImageProjectiveTransform kernel is not in tfjs-node). Pixels moved in from outside the picture
// take the nearest edge pixel (Keras' default fill_mode 'nearest'), never black: a picture
// imported on white keeps a white surround, a photograph continues its edge.
import { tf } from './tf';
import { mulberry32 } from './rng';
import type { ModelConfig } from './config';

export type AugmentConfig = ModelConfig['augment'];

export const augmentActive = (a: AugmentConfig | undefined): a is AugmentConfig =>
  !!a && (a.flip || a.shift > 0 || a.rotate > 0 || a.brightness > 0);

/** `i` moved into 0..n-1: a position outside the picture takes its nearest edge pixel. */
export const edgeIndex = (i: number, n: number): number => (i < 0 ? 0 : i >= n ? n - 1 : i);

/** Source pixel of every output pixel of every image (index into the flattened batch, always inside the same image). */
export function augmentIndices(
  n: number,
  h: number,
  w: number,
  a: AugmentConfig,
  seed: number,
): { indices: Int32Array; gains: Float32Array } {
  const rand = mulberry32(seed >>> 0);
  const indices = new Int32Array(n * h * w);
  const gains = new Float32Array(n);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  for (let k = 0; k < n; k++) {
    const flip = a.flip && rand() < 0.5;
    const dy = (rand() * 2 - 1) * a.shift * h;
    const dx = (rand() * 2 - 1) * a.shift * w;
    const angle = (((rand() * 2 - 1) * a.rotate) / 180) * Math.PI;
    gains[k] = 1 + (rand() * 2 - 1) * a.brightness;
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // inverse map: output (x, y) comes from the source point rotated back and shifted back
        const ox = x - cx - dx;
        const oy = y - cy - dy;
        let sx = cos * ox + sin * oy + cx;
        const sy = -sin * ox + cos * oy + cy;
        if (flip) sx = w - 1 - sx;
        const ix = edgeIndex(Math.round(sx), w);
        const iy = edgeIndex(Math.round(sy), h);
        indices[(k * h + y) * w + x] = (k * h + iy) * w + ix;
      }
    }
  }
  return { indices, gains };
}

/** A new batch: `x` [n, h, w, c] in 0..1, augmented per image (seeded); `x` itself is left as it is. */
export function augmentBatch(x: tf.Tensor4D, a: AugmentConfig, seed: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const { indices, gains } = augmentIndices(n, h, w, a, seed);
  return tf.tidy(() => {
    const flat = tf.reshape(x, [n * h * w, c]);
    let y = tf.reshape(tf.gather(flat, tf.tensor1d(indices, 'int32')), [n, h, w, c]);
    if (a.brightness > 0) y = tf.clipByValue(tf.mul(y, tf.tensor4d(gains, [n, 1, 1, 1])), 0, 1);
    return y as tf.Tensor4D;
  });
}
