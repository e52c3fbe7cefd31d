// Colour pictures made from the digits, for the benches' bigger models (the peers' recipe,
// images_rgb in test/bench/peers/): the first n digits of `loadMnist(…, { seed: 12345 })`, each
// upscaled `up`× by nearest neighbour and padded by `border` zero pixels on every side, as three
// channels R = digit, G = the digit mirrored left–right, B = 1 − digit (so B's border is 1).
// Model D: 2,000 at 2× + 4 (64×64); model E: 1,000 at 4× + 8 (128×128).
import { loadMnist, type Dataset } from '../../src-main/engine';

export function digitsRgb(
  n: number,
  up: number,
  border: number,
  format: 'float' | 'uint8' = 'float',
): Dataset & { shape: [number, number, number] } {
  const f = loadMnist(n, { seed: 12345, format });
  const count = f.count;
  const S = 28 * up + 2 * border;
  const inner = 28 * up;
  const one = format === 'float' ? 1 : 255;
  const images = format === 'float' ? new Float32Array(count * S * S * 3) : new Uint8Array(count * S * S * 3);
  for (let k = 0; k < count; k++) {
    const g = (y: number, x: number) => {
      const yy = y - border;
      const xx = x - border;
      return yy < 0 || xx < 0 || yy >= inner || xx >= inner
        ? 0
        : f.images[k * 784 + Math.floor(yy / up) * 28 + Math.floor(xx / up)];
    };
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        const o = ((k * S + y) * S + x) * 3;
        images[o] = g(y, x);
        images[o + 1] = g(y, S - 1 - x);
        images[o + 2] = one - g(y, x);
      }
  }
  return { images, labels: f.labels, count, shape: [S, S, 3] };
}
