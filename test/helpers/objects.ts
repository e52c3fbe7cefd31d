// The object half of the offline MVTec-AD-shaped inspection set (textures: defects.ts): one seeded
// procedural object per picture on a plain background, as MVTec AD's objects are photographed —
//   cap   a bottle cap seen from above: a disc with a knurled rim, a moulded ring and tick, a highlight
//   pill  a two-colour capsule with a printed band and a lengthwise highlight
// drawn anti-aliased (coverage from the shape's signed distance) with a small pose jitter: position
// ±3 px, rotation ±4°, brightness ±5 % (at 64×64; positions scale with the size), and a little sensor
// noise. Defects are drawn only on the object, their masks exactly the pixels drawn:
//   scratch  a thin bright or dark line inside the object
//   notch    a missing piece: a bite out of the object's edge, showing the background
//   spot     a small solid dark or bright contamination inside the object
//   smudge   a soft colour stain (one channel raised, the others lowered) inside the object
// Written as RGB PNGs in the MVTec layout (train/good, test/good, test/<defect>,
// ground_truth/<defect>/<name>_mask.png), with the same seeding design as the textures.
import path from 'node:path';
import { mulberry32 } from '../../src-main/engine/rng';
import { writePng } from './defects';

export const OBJECTS = ['cap', 'pill'] as const;
export type ObjectKind = (typeof OBJECTS)[number];
export const OBJECT_DEFECTS = ['scratch', 'notch', 'spot', 'smudge'] as const;
export type ObjectDefect = (typeof OBJECT_DEFECTS)[number];

/** One drawn object picture: RGB in [0,1] (row-major, interleaved), and per pixel the background
 *  it covers and how far inside the object it lies (signed distance in px, > 0 inside). */
export interface ObjectPicture {
  img: Float32Array;
  background: Float32Array;
  depth: Float32Array;
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
/** Share of a pixel covered by the shape, from its signed distance (anti-aliasing). */
export const coverage = (depth: number) => clamp01(depth + 0.5);

const BACKGROUND: Record<ObjectKind, number[]> = { cap: [0.22, 0.23, 0.25], pill: [0.36, 0.4, 0.46] };

/** One size × size RGB picture of `kind`, posed with a small random jitter. */
export function objectPicture(kind: ObjectKind, size: number, rand: () => number): ObjectPicture {
  const n = size * size;
  const img = new Float32Array(n * 3);
  const background = new Float32Array(n * 3);
  const depth = new Float32Array(n);
  const s = size / 64; // the drawing is designed at 64×64
  const cx = size / 2 - 0.5 + (rand() - 0.5) * 6 * s;
  const cy = size / 2 - 0.5 + (rand() - 0.5) * 6 * s;
  const angle = ((rand() - 0.5) * 8 * Math.PI) / 180;
  const bright = 0.95 + 0.1 * rand();
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const bg = BACKGROUND[kind];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const noise = (rand() - 0.5) * 0.04;
      // object coordinates: the pose undone
      const dx = x - cx;
      const dy = y - cy;
      const u = cos * dx + sin * dy;
      const v = -sin * dx + cos * dy;
      const rgb = [0, 0, 0];
      let d: number;
      if (kind === 'cap') {
        const R = 21 * s;
        const r = Math.hypot(u, v);
        d = R - r;
        const base = [0.78, 0.16, 0.13];
        const a = Math.atan2(v, u);
        let shade = 0.92 - 0.25 * (r / R) ** 2; // domed
        if (r > 0.8 * R) shade = 0.62 + 0.1 * Math.sin(36 * a); // knurled rim
        const ring = Math.exp(-(((r - 0.5 * R) / (0.9 * s)) ** 2)); // moulded ring
        const tick = Math.abs(v) < 1.2 * s && u > 0.15 * R && u < 0.4 * R ? 1 : 0; // moulded tick: shows the rotation
        shade += 0.15 * ring + 0.12 * tick;
        // highlight: the light is fixed, up left, whatever the pose
        const h = 0.45 * Math.exp(-((dx + 0.35 * R) ** 2 + (dy + 0.35 * R) ** 2) / (2 * (0.18 * R) ** 2));
        for (let c = 0; c < 3; c++) rgb[c] = base[c] * shade + h * (1 - base[c] * shade);
      } else {
        const L = 15 * s;
        const rr = 8.5 * s;
        const qx = Math.max(Math.abs(u) - L, 0);
        d = rr - Math.hypot(qx, v);
        const half = clamp01(u + 0.5); // anti-aliased seam between the two halves
        const cyl = Math.sqrt(clamp01(1 - (v / rr) ** 2)); // cylinder shading across
        const shade = 0.7 + 0.3 * cyl;
        const print = u > 0.25 * L && u < 0.95 * L && Math.abs(v) < 0.3 * rr && Math.sin((1.6 * u) / s) > 0.4 ? 1 : 0;
        const h = 0.35 * Math.exp(-(((v + 0.45 * rr) / (0.15 * rr)) ** 2));
        const A = [0.9, 0.88, 0.82];
        const B = [0.2, 0.36, 0.78];
        for (let c = 0; c < 3; c++) {
          const b = print ? 0.95 : B[c];
          const base = A[c] * (1 - half) + b * half;
          rgb[c] = base * shade + h * (1 - base * shade);
        }
      }
      depth[i] = d;
      const cover = coverage(d);
      for (let c = 0; c < 3; c++) {
        const back = bg[c] * bright + noise;
        background[i * 3 + c] = clamp01(back);
        img[i * 3 + c] = clamp01((1 - cover) * back + cover * (rgb[c] * bright + noise));
      }
    }
  }
  return { img, background, depth };
}

/** Draws a defect on the object of `p` in place; returns its mask (size × size, 1 = drawn). */
export function drawObjectDefect(p: ObjectPicture, kind: ObjectDefect, size: number, rand: () => number): Uint8Array {
  const { img, background, depth } = p;
  const s = size / 64;
  const mask = new Uint8Array(size * size);
  // a random pixel whose depth inside the object lies in [lo, hi)
  const pick = (lo: number, hi: number) => {
    const at: number[] = [];
    for (let i = 0; i < depth.length; i++) if (depth[i] >= lo && depth[i] < hi) at.push(i);
    const i = at[Math.floor(rand() * at.length)];
    return { x: i % size, y: Math.floor(i / size) };
  };
  const centreLuma = (x: number, y: number) => {
    const k = (y * size + x) * 3;
    return (img[k] + img[k + 1] + img[k + 2]) / 3;
  };
  // only pixels fully inside the object are painted (notch: any pixel the object touches)
  const paint = (x: number, y: number, value: (old: number, c: number) => number, minDepth = 0.5) => {
    if (x < 0 || y < 0 || x >= size || y >= size) return;
    const i = y * size + x;
    if (depth[i] < minDepth) return;
    mask[i] = 1;
    for (let c = 0; c < 3; c++) img[i * 3 + c] = clamp01(value(img[i * 3 + c], c));
  };
  if (kind === 'scratch') {
    const { x: cx, y: cy } = pick(6 * s, Infinity);
    const angle = rand() * Math.PI;
    const len = size * (0.15 + 0.15 * rand());
    rand(); // (kept for the sequence) the line contrasts with the object where it starts:
    const bright = centreLuma(cx, cy) < 0.5;
    for (let t = -len / 2; t <= len / 2; t += 0.5) {
      const x = Math.round(cx + t * Math.cos(angle));
      const y = Math.round(cy + t * Math.sin(angle));
      paint(x, y, () => (bright ? 0.95 : 0.05));
    }
  } else if (kind === 'notch') {
    const { x: cx, y: cy } = pick(0, 1);
    const r = size * (0.06 + 0.04 * rand());
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++)
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++)
        if (Math.hypot(x - cx, y - cy) <= r) paint(x, y, (_, c) => background[(y * size + x) * 3 + c], -0.5 + 1e-6);
  } else {
    const { x: cx, y: cy } = pick(4 * s, Infinity);
    const r = size * (kind === 'spot' ? 0.03 + 0.03 * rand() : 0.07 + 0.05 * rand());
    rand(); // (kept for the sequence) dark on a bright object, bright on a dark one
    const level = centreLuma(cx, cy) < 0.5 ? 0.92 : 0.08;
    const channel = Math.floor(rand() * 3);
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
        const d = Math.hypot(x - cx, y - cy) / r;
        if (d > 1) continue;
        if (kind === 'spot') paint(x, y, () => level);
        // a colour stain: one channel up, the others down, fading towards its edge
        else paint(x, y, (old, c) => old + (c === channel ? 0.35 : -0.2) * (1 - d * d));
      }
    }
  }
  return mask;
}

export interface ObjectSetSpec {
  object: ObjectKind;
  size: number;
  train: number;
  testGood: number;
  /** Defective test pictures per defect type. */
  perDefect: number;
  defects?: readonly ObjectDefect[];
  seed: number;
}

/** Writes the set under `root` (MVTec layout, RGB). */
export async function writeObjectSet(root: string, s: ObjectSetSpec): Promise<void> {
  const rand = mulberry32(s.seed);
  const name = (i: number) => String(i).padStart(3, '0');
  for (let i = 0; i < s.train; i++)
    await writePng(
      path.join(root, 'train', 'good', `${name(i)}.png`),
      objectPicture(s.object, s.size, rand).img,
      s.size,
      3,
      255,
    );
  for (let i = 0; i < s.testGood; i++)
    await writePng(
      path.join(root, 'test', 'good', `${name(i)}.png`),
      objectPicture(s.object, s.size, rand).img,
      s.size,
      3,
      255,
    );
  for (const d of s.defects ?? OBJECT_DEFECTS) {
    for (let i = 0; i < s.perDefect; i++) {
      const p = objectPicture(s.object, s.size, rand);
      const mask = drawObjectDefect(p, d, s.size, rand);
      await writePng(path.join(root, 'test', d, `${name(i)}.png`), p.img, s.size, 3, 255);
      await writePng(path.join(root, 'ground_truth', d, `${name(i)}_mask.png`), mask, s.size, 1, 255);
    }
  }
}
