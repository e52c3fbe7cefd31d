// Random-crop training (config `cropSize`): a dataset of big pictures seen as a dataset of
// `cropSize`×`cropSize` crops. Each image's crop in a training epoch is placed by a hash of (run
// seed, epoch, image), so a resumed run sees the same crops and each epoch sees new ones; the
// validation, test, preview and end-of-run crops use epoch 0 (never a training epoch), so they are the
// same every epoch and validation losses stay comparable. The crop is cut from the uint8 rows while a
// batch is filled — from memory, or from the rows a streamed dataset reads from its file — so no
// tensor, and no copy of the whole dataset, is made; the training steps see ordinary batches.
// `train.py` (cluster jobs) places its crops with the same hash (cluster/train-py.ts `crop_origin`).
import type { RowReader, StreamedDataset, TrainingData } from './data';

/** murmur3's 32-bit finaliser: a well-mixed uint32 of a uint32. */
export function fmix32(x: number): number {
  x >>>= 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Where the `size`×`size` crop of dataset row `row` in `epoch` starts (top, left), in an h × w picture. */
export function cropOrigin(
  seed: number,
  epoch: number,
  row: number,
  h: number,
  w: number,
  size: number,
): [number, number] {
  const key = fmix32((fmix32((seed ^ Math.imul(epoch, 0x9e3779b9)) >>> 0) + row) >>> 0);
  return [key % (h - size + 1), fmix32(key ^ 0x68e31da4) % (w - size + 1)];
}

/** The epoch whose crops validation, the test split, previews and the jobs after training use. */
export const FIXED_CROP_EPOCH = 0;

/** Why `ds` cannot be cropped to `size` px, in plain words (undefined when it can). */
export function cropRefusal(ds: Pick<TrainingData, 'shape' | 'images'>, size: number): string | undefined {
  const [h, w] = ds.shape;
  if (size > h || size > w)
    return `The crop (${size}×${size} px) is bigger than the dataset's pictures (${h}×${w}); choose a crop of at most ${Math.min(h, w)} px.`;
  if (ds.images instanceof Float32Array)
    return 'Random crops need pictures stored as 0–255 values, as every imported dataset is; this one holds fractions.';
  return undefined;
}

/**
 * `ds` seen as its `size`×`size` crops: same count and labels, shape [size, size, C], pixels read
 * (and cropped) a batch of rows at a time. `epoch` picks the crops; set it before each epoch's batches.
 */
export class CropView implements StreamedDataset {
  readonly count: number;
  readonly labels: StreamedDataset['labels'];
  readonly shape: [number, number, number];
  readonly images: RowReader;
  epoch: number;
  private buf = new Uint8Array(0);

  constructor(
    readonly source: TrainingData,
    readonly size: number,
    readonly seed: number,
    epoch = FIXED_CROP_EPOCH,
  ) {
    const refusal = cropRefusal(source, size);
    if (refusal) throw new Error(refusal);
    this.count = source.count;
    this.labels = source.labels;
    this.epoch = epoch;
    const [, , c] = source.shape;
    this.shape = [size, size, c];
    this.images = { readRows: (n, rowAt) => this.readRows(n, rowAt) };
  }

  /** Where row `row`'s crop starts in the current epoch (top, left). */
  origin(row: number): [number, number] {
    const [h, w] = this.source.shape;
    return cropOrigin(this.seed, this.epoch, row, h, w, this.size);
  }

  private readRows(n: number, rowAt: (k: number) => number): Uint8Array {
    const [h, w, c] = this.source.shape;
    const s = this.size;
    const line = s * c;
    const per = s * line;
    const full = h * w * c;
    if (this.buf.length < n * per) this.buf = new Uint8Array(n * per);
    const out = this.buf.subarray(0, n * per);
    const px = this.source.images;
    // rows in memory are cut where they lie; a streamed dataset's rows are read (one read per run of consecutive rows) then cut
    const rows = px instanceof Uint8Array ? px : (px as RowReader).readRows(n, rowAt);
    for (let k = 0; k < n; k++) {
      const row = rowAt(k);
      const [y0, x0] = this.origin(row);
      const base = px instanceof Uint8Array ? row * full : k * full;
      for (let y = 0; y < s; y++) {
        const src = base + ((y0 + y) * w + x0) * c;
        out.set(rows.subarray(src, src + line), k * per + y * line);
      }
    }
    return out;
  }
}
