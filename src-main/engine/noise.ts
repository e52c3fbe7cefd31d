// Input corruption for denoising autoencoders: applied with tensor ops to every batch
// afresh, clipped to [0,1]; the target stays clean. The UI preview uses the same function.
import { readTidy, tf } from './tf';
import type { NoiseConfig } from './config';

/** Returns a corrupted copy of `x` (values in [0,1]); `seed` makes it repeatable. */
export function applyNoise(x: tf.Tensor, noise: NoiseConfig, seed?: number): tf.Tensor {
  return tf.tidy(() => {
    if (noise.type === 'none' || noise.level === 0) return x.clone();
    if (noise.type === 'gaussian') {
      return tf.clipByValue(tf.add(x, tf.randomNormal(x.shape, 0, noise.level, 'float32', seed)), 0, 1);
    }
    const u = tf.randomUniform(x.shape, 0, 1, 'float32', seed);
    const p = noise.level;
    if (noise.type === 'masking') return tf.mul(x, tf.cast(tf.greaterEqual(u, p), 'float32'));
    // salt-and-pepper: p/2 of the pixels become 1, p/2 become 0
    const salt = tf.less(u, p / 2);
    const pepper = tf.greaterEqual(u, 1 - p / 2);
    return tf.where(salt, tf.onesLike(x), tf.where(pepper, tf.zerosLike(x), x));
  });
}

/** The UI's live preview: uint8 images in, their corrupted uint8 versions out. */
export function previewNoise(
  images: Uint8Array,
  shape: [number, number, number],
  noise: NoiseConfig,
  seed = 1,
): Uint8Array {
  const n = images.length / (shape[0] * shape[1] * shape[2]);
  return Uint8Array.from(
    readTidy(() => {
      const x = tf.div(tf.tensor4d(Float32Array.from(images), [n, ...shape]), 255);
      return tf.round(tf.mul(applyNoise(x, noise, seed), 255));
    }),
  );
}
