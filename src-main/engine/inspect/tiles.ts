// Big pictures: a picture larger than the model's input is scored by tiling it with overlap — tiles
// of the model's size, a stride of (1 − overlap) tiles, the last row and column flush with the
// picture's edge — and stitching the tiles' maps (each pixel the mean of the tiles covering it).
// Tiles go through the model a batch at a time, so memory is one batch of tiles plus the picture's
// map, whatever the picture's size or how many pictures are scored. Meant for models trained on
// crops of full-resolution pictures at the same scale (see docs/inspection.md).
// Speed: with the inference graph, the tiles' maps (smoothed, normalised) are computed inside it,
// in the same run as their reconstruction, from the uint8 tiles, in batches of the graph's chunk (no
// padded images); the stitch adds rows of tiles, the division by the coverage uses the grid's row
// and column counts, and the top-k score selects its pixels instead of sorting the whole map.
import type { TrainedModel } from '../trained-model';
import { evalBatchSize } from '../data';
import { inspectImages, inspectSpec } from './inspect';
import { topkCount, type MapSettings, type NormStats, type ScoreKind } from './maps';
import { selectInPlace } from '../select';

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
  batch = model.inferencePath === 'graph' ? model.inferChunk : evalBatchSize(model.config.inputShape, 64),
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
  const spec = inspectSpec(model, s, norm);
  const sum = new Float32Array(h * w);
  const per = t * t * c;
  const buf = picture instanceof Uint8Array ? new Uint8Array(batch * per) : new Float32Array(batch * per);
  for (let i = 0; i < origins.length; i += batch) {
    const part = origins.slice(i, i + batch);
    part.forEach(([y0, x0], k) => {
      for (let y = 0; y < t; y++)
        buf.set(picture.subarray(((y0 + y) * w + x0) * c, ((y0 + y) * w + x0 + t) * c), k * per + y * t * c);
    });
    const tiles = buf.subarray(0, part.length * per);
    // The tiles' final maps: from the inference graph (no scores: only the stitched map's count), or tfjs ops.
    const maps =
      model.inspectOnGraph(tiles, spec, { amap: true })?.amap ?? inspectImages(model, tiles, s, norm, { batch }).maps;
    part.forEach(([y0, x0], k) => {
      for (let y = 0; y < t; y++) {
        const src = k * t * t + y * t;
        const dst = (y0 + y) * w + x0;
        for (let x = 0; x < t; x++) sum[dst + x] += maps[src + x];
      }
    });
  }
  // Each pixel is covered by (tiles over its row) × (tiles over its column): the tiles make a grid.
  const cy = coverage(h, ys, t);
  const cx = coverage(w, xs, t);
  let total = 0;
  let max = -Infinity;
  for (let y = 0; y < h; y++) {
    for (let x = 0, p = y * w; x < w; x++, p++) {
      const v = (sum[p] /= cy[y] * cx[x]);
      total += v;
      if (v > max) max = v;
    }
  }
  const k = topkCount(h, w, s.topkPercent);
  return { h, w, map: sum, scores: { mean: total / (h * w), max, topk: topMean(sum, k) }, tiles: origins.length };
}

/** How many tiles of `tile` pixels starting at `origins` cover each of `len` pixels. */
function coverage(len: number, origins: number[], tile: number): Uint16Array {
  const n = new Uint16Array(len);
  for (const o of origins) for (let i = o; i < o + tile; i++) n[i]++;
  return n;
}

/**
 * The mean of the k largest values: a selection (quickselect on a copy) finds them, and only those
 * k are sorted, so the sum runs in the same order as over a full sort (the same number).
 */
export function topMean(values: Float32Array, k: number): number {
  const a = Float32Array.from(values);
  const target = a.length - k;
  selectInPlace(a, target); // the k largest now fill a[n−k..n)
  const top = a.subarray(target).sort();
  let s = 0;
  for (let i = 0; i < top.length; i++) s += top[i];
  return s / k;
}
