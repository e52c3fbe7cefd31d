// Any gallery (originals, reconstructions, samples, interpolations, the manifold) as one PNG grid,
// row-major, `cols` images a row, each pixel scaled up by a whole factor (nearest neighbour).
// Encoded with sharp, as the dataset pipeline does.
import sharp from 'sharp';
import { writeFileAtomic, type ExportResult } from './output';

export interface ImageGridOptions {
  /** Whole-number upscaling of every pixel (nearest neighbour); default 1. */
  scale?: number;
  /** Pixels between images (before scaling), filled with `background`; default 0. */
  gap?: number;
  /** Grey level 0..255 of gaps and empty cells; default 0. */
  background?: number;
}

/** Images: one flat array (N·H·W·C) or one array per image; uint8 0..255 or float 0..1 (clipped). */
export type GridImages = Uint8Array | Float32Array | Array<Uint8Array | Float32Array>;

/** The grid as raw interleaved pixels (before scaling). */
export function composeGrid(
  images: GridImages,
  shape: [number, number, number],
  cols: number,
  opts: Omit<ImageGridOptions, 'scale'> = {},
): { data: Uint8Array; width: number; height: number; channels: number } {
  const [h, w, c] = shape;
  if (![1, 3, 4].includes(c)) throw new Error(`A PNG grid needs 1, 3 or 4 channels; got ${c}.`);
  const size = h * w * c;
  const list = Array.isArray(images)
    ? images
    : Array.from({ length: images.length / size }, (_, i) => images.subarray(i * size, (i + 1) * size));
  if (!Array.isArray(images) && images.length % size !== 0)
    throw new Error(`expected a multiple of ${size} values (${h}×${w}×${c} images), got ${images.length}`);
  if (list.length === 0) throw new Error('There are no images to put in the grid.');
  for (const im of list)
    if (im.length !== size)
      throw new Error(`every image must have ${size} values (${h}×${w}×${c}); one has ${im.length}`);
  if (!Number.isInteger(cols) || cols < 1) throw new Error('cols must be a whole number ≥ 1');
  const gap = opts.gap ?? 0;
  const columns = Math.min(cols, list.length);
  const rows = Math.ceil(list.length / columns);
  const width = columns * w + (columns - 1) * gap;
  const height = rows * h + (rows - 1) * gap;
  const data = new Uint8Array(width * height * c).fill(opts.background ?? 0);
  list.forEach((im, i) => {
    const ox = (i % columns) * (w + gap);
    const oy = Math.floor(i / columns) * (h + gap);
    const float = im instanceof Float32Array;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let k = 0; k < c; k++) {
          const v = im[(y * w + x) * c + k];
          data[((oy + y) * width + ox + x) * c + k] = float ? Math.round(Math.min(1, Math.max(0, v)) * 255) : v;
        }
      }
    }
  });
  return { data, width, height, channels: c };
}

export async function writeImageGridPng(
  images: GridImages,
  shape: [number, number, number],
  cols: number,
  out: string,
  opts: ImageGridOptions = {},
): Promise<ExportResult & { width: number; height: number }> {
  const scale = opts.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1 || scale > 64) throw new Error('scale must be a whole number from 1 to 64');
  const g = composeGrid(images, shape, cols, opts);
  const width = g.width * scale;
  const height = g.height * scale;
  const result = await writeFileAtomic(out, async (tmp) => {
    let img = sharp(Buffer.from(g.data.buffer, g.data.byteOffset, g.data.byteLength), {
      raw: { width: g.width, height: g.height, channels: g.channels as 1 | 3 | 4 },
    });
    if (scale > 1) img = img.resize(width, height, { kernel: 'nearest' });
    if (g.channels === 1) img = img.toColourspace('b-w');
    await img.png().toFile(tmp);
  });
  return { ...result, width, height };
}
