// The Noise view's live preview inside the trainer process: the first images of the chosen
// dataset (only those are read from the store), corrupted by the engine's previewNoise — the
// same noise training applies.
import { previewNoise, readTidy } from '../engine';
import { previewDataset } from '../datasets/store';
import { imagesToBase64 } from '../datasets/base64';
import { loadRunDataset } from './runs';
import type { MethodParams } from './protocol';
import { tf } from '../engine/tf';
import { augmentActive, augmentBatch } from '../engine/augment';

export function noisePreview(p: MethodParams<'noisePreview'>) {
  let images: Uint8Array;
  let shape: [number, number, number];
  if ('builtin' in p.dataset) {
    const d = loadRunDataset({ builtin: 'mnist', count: 10_000 }, p.workspaceDir); // cached after the first call
    shape = d.shape;
    images = d.images.subarray(0, Math.min(p.count, d.count) * shape[0] * shape[1] * shape[2]) as Uint8Array;
  } else {
    const d = previewDataset(p.workspaceDir, p.dataset.id, p.count);
    shape = d.manifest.shape as [number, number, number];
    images = new Uint8Array(d.images.length * shape[0] * shape[1] * shape[2]);
    d.images.forEach((img, i) => images.set(img, i * img.length));
  }
  const per = shape[0] * shape[1] * shape[2];
  if (augmentActive(p.augment) && images.length) {
    const a = p.augment;
    const n = images.length / per;
    images = Uint8Array.from(
      readTidy(() => {
        const x = tf.div(tf.tensor4d(Float32Array.from(images), [n, ...shape]), 255) as tf.Tensor4D;
        return tf.round(tf.mul(augmentBatch(x, a, p.seed), 255));
      }),
    );
  }
  const noisy = images.length ? previewNoise(images, shape, p.noise, p.seed) : new Uint8Array(0);
  return { shape, clean: imagesToBase64(images, per), noisy: imagesToBase64(noisy, per) };
}
