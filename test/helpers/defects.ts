// An MVTec-AD-shaped inspection set made offline, for tests and the inspection benchmark: seeded
// procedural textures (woven, grainy, striped) with drawn defects — scratches, blobs and smudges —
// whose masks are exactly the pixels drawn (objects on a plain background: objects.ts). Written as
// PNGs in the MVTec layout:
//   train/good, test/good, test/<defect>, ground_truth/<defect>/<name>_mask.png
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '../../src-main/engine/rng';

export const TEXTURES = ['weave', 'grain', 'stripes'] as const;
export type Texture = (typeof TEXTURES)[number];
export const DEFECTS = ['scratch', 'blob', 'smudge'] as const;
export type Defect = (typeof DEFECTS)[number];

/** One size × size texture picture, values in [0,1], `channels` channels (row-major, interleaved). */
export function texture(kind: Texture, size: number, channels: number, rand: () => number): Float32Array {
  const out = new Float32Array(size * size * channels);
  const phase = rand() * 2 * Math.PI;
  const tint = Array.from({ length: channels }, () => 0.8 + 0.4 * rand());
  // a smooth random field: a few random low-frequency waves
  const waves = Array.from({ length: 4 }, () => ({
    fx: (rand() - 0.5) * 0.3,
    fy: (rand() - 0.5) * 0.3,
    p: rand() * 6.28,
  }));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let v: number;
      const grain = rand() - 0.5;
      const field = waves.reduce((s, w) => s + Math.sin(w.fx * x + w.fy * y + w.p), 0) / 4;
      if (kind === 'weave')
        v = 0.5 + 0.22 * Math.sin(0.9 * x + phase) * Math.sin(0.9 * y) + 0.08 * field + 0.06 * grain;
      else if (kind === 'grain') v = 0.5 + 0.15 * field + 0.22 * grain;
      else v = 0.5 + 0.25 * Math.sin(0.55 * (x + 0.3 * y) + phase) + 0.05 * field + 0.05 * grain;
      for (let c = 0; c < channels; c++) out[(y * size + x) * channels + c] = Math.min(1, Math.max(0, v * tint[c]));
    }
  }
  return out;
}

/** Draws a defect on `img` in place; returns its mask (size × size, 1 = drawn). */
export function drawDefect(
  img: Float32Array,
  kind: Defect,
  size: number,
  channels: number,
  rand: () => number,
): Uint8Array {
  const mask = new Uint8Array(size * size);
  const paint = (x: number, y: number, value: (old: number) => number) => {
    if (x < 0 || y < 0 || x >= size || y >= size) return;
    mask[y * size + x] = 1;
    for (let c = 0; c < channels; c++) {
      const k = (y * size + x) * channels + c;
      img[k] = Math.min(1, Math.max(0, value(img[k])));
    }
  };
  const cx = size * (0.25 + 0.5 * rand());
  const cy = size * (0.25 + 0.5 * rand());
  if (kind === 'scratch') {
    const angle = rand() * Math.PI;
    const len = size * (0.25 + 0.25 * rand());
    const bright = rand() < 0.5;
    for (let t = -len / 2; t <= len / 2; t += 0.5) {
      const x = Math.round(cx + t * Math.cos(angle));
      const y = Math.round(cy + t * Math.sin(angle));
      paint(x, y, () => (bright ? 0.95 : 0.05));
      paint(x + 1, y, () => (bright ? 0.9 : 0.1));
    }
  } else {
    const r = size * (kind === 'blob' ? 0.05 + 0.06 * rand() : 0.08 + 0.08 * rand());
    const level = rand() < 0.5 ? 0.15 : 0.85;
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
        const d = Math.hypot(x - cx, y - cy) / r;
        if (d > 1) continue;
        // a blob is solid; a smudge is a soft, partial wash over the texture (harder to see)
        if (kind === 'blob') paint(x, y, () => level);
        else paint(x, y, (old) => old + (level - 0.5) * 0.6 * (1 - d * d));
      }
    }
  }
  return mask;
}

export async function writePng(
  file: string,
  px: Float32Array | Uint8Array,
  size: number,
  channels: number,
  scale: number,
): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const data = Buffer.from(Uint8Array.from(px, (v) => Math.round(v * scale)));
  await sharp(data, { raw: { width: size, height: size, channels: channels as 1 | 3 } })
    .png()
    .toFile(file);
}

export interface SetSpec {
  texture: Texture;
  size: number;
  channels: 1 | 3;
  train: number;
  testGood: number;
  /** Defective test pictures per defect type. */
  perDefect: number;
  defects?: readonly Defect[];
  seed: number;
}

/** Writes the set under `root` (MVTec layout). */
export async function writeInspectionSet(root: string, s: SetSpec): Promise<void> {
  const rand = mulberry32(s.seed);
  const name = (i: number) => String(i).padStart(3, '0');
  for (let i = 0; i < s.train; i++)
    await writePng(
      path.join(root, 'train', 'good', `${name(i)}.png`),
      texture(s.texture, s.size, s.channels, rand),
      s.size,
      s.channels,
      255,
    );
  for (let i = 0; i < s.testGood; i++)
    await writePng(
      path.join(root, 'test', 'good', `${name(i)}.png`),
      texture(s.texture, s.size, s.channels, rand),
      s.size,
      s.channels,
      255,
    );
  for (const d of s.defects ?? DEFECTS) {
    for (let i = 0; i < s.perDefect; i++) {
      const img = texture(s.texture, s.size, s.channels, rand);
      const mask = drawDefect(img, d, s.size, s.channels, rand);
      await writePng(path.join(root, 'test', d, `${name(i)}.png`), img, s.size, s.channels, 255);
      await writePng(path.join(root, 'ground_truth', d, `${name(i)}_mask.png`), mask, s.size, 1, 255);
    }
  }
}
