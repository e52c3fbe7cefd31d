// Big pictures: a picture larger than the model's input is scored by tiling it with overlap — tiles
// of the model's size, a stride of (1 − overlap) tiles, the last row and column flush with the
// picture's edge — and stitching the tiles' maps (each pixel the mean of the tiles covering it).
// Tiles go through the model a batch at a time, so memory is one batch of tiles plus the picture's
// map, whatever the picture's size or how many pictures are scored. Meant for models trained on
// crops of full-resolution pictures at the same scale (see docs/inspection.md).
import type { TrainedModel } from '../trained-model';
import { evalBatchSize } from '../data';
import { inspectImages } from './inspect';
import { topkCount, type MapSettings, type NormStats, type ScoreKind } from './maps';

/** Tile origins along a side of `len` pixels: 0, stride, 2·stride, …, and `len − tile` last. */
export function tileOrigins(len: number, tile: number, stride: number): number[] {
  if (len <= tile) return [0];
  const out: number[] = [];
  for (let o = 0; o + tile < len; o += stride) out.push(o);
  out.push(len - tile);
  return out;
}

export interface TiledResult {
  h: number;
  w: number;
  /** The stitched H·W map. */
  map: Float32Array;
  scores: Record<ScoreKind, number>;
  tiles: number;
}

/**
 * Inspects one picture of h × w pixels (H·W·C, uint8 or floats in [0,1], C the model's channels;
 * at least the model's size on each side) by overlapping tiles of the model's size.
 */
export function inspectTiled(
  model: TrainedModel,
  picture: Uint8Array | Float32Array,
  h: number,
  w: number,
  s: MapSettings,
  norm?: NormStats,
  overlap = 0.5,
  batch = evalBatchSize(model.config.inputShape, 64),
): TiledResult {
  const [t, tw, c] = model.config.inputShape;
  if (t !== tw) throw new Error(`Tiled inspection needs a model with square input; this one takes ${t}×${tw}.`);
  if (picture.length !== h * w * c)
    throw new Error(`expected ${h}×${w}×${c} = ${h * w * c} pixel values, got ${picture.length}`);
  if (h < t || w < t)
    throw new Error(`The picture is ${h}×${w}; tiled inspection needs at least the model's ${t}×${t}.`);
  if (!(overlap >= 0 && overlap < 1)) throw new Error('The tile overlap must be from 0 to under 1.');
  const stride = Math.max(1, Math.round(t * (1 - overlap)));
  const ys = tileOrigins(h, t, stride);
  const xs = tileOrigins(w, t, stride);
  const origins = ys.flatMap((y) => xs.map((x) => [y, x] as const));
  const sum = new Float32Array(h * w);
  const count = new Uint16Array(h * w);
  const per = t * t * c;
  const buf = picture instanceof Uint8Array ? new Uint8Array(batch * per) : new Float32Array(batch * per);
  for (let i = 0; i < origins.length; i += batch) {
    const part = origins.slice(i, i + batch);
    part.forEach(([y0, x0], k) => {
      for (let y = 0; y < t; y++)
        buf.set(picture.subarray(((y0 + y) * w + x0) * c, ((y0 + y) * w + x0 + t) * c), k * per + y * t * c);
    });
    const r = inspectImages(model, buf.subarray(0, part.length * per), s, norm, { batch });
    part.forEach(([y0, x0], k) => {
      for (let y = 0; y < t; y++) {
        for (let x = 0; x < t; x++) {
          const p = (y0 + y) * w + x0 + x;
          sum[p] += r.maps[k * t * t + y * t + x];
          count[p]++;
        }
      }
    });
  }
  let total = 0;
  let max = -Infinity;
  for (let p = 0; p < h * w; p++) {
    sum[p] /= count[p];
    total += sum[p];
    if (sum[p] > max) max = sum[p];
  }
  const k = topkCount(h, w, s.topkPercent);
  const sorted = Float32Array.from(sum).sort();
  let top = 0;
  for (let i = sorted.length - k; i < sorted.length; i++) top += sorted[i];
  return { h, w, map: sum, scores: { mean: total / (h * w), max, topk: top / k }, tiles: origins.length };
}
