// A Gallery view as one PNG grid (formats/image-grid.ts): images placed row-major, gaps and empty
// cells in the background grey, floats clipped to 0…1, each pixel scaled up by a whole factor; the
// PNG read back (sharp) holds exactly those pixels. Bad input is refused in plain words and writes
// nothing. (Every model format is exported and loaded back in test/integration.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { composeGrid, writeImageGridPng } from '../../../../src-main/formats/image-grid';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-grid-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
/** A 2×2 grey image filled with `v`. */
const img = (v: number) => new Uint8Array(4).fill(v);

describe('the image grid', () => {
  it('places images row-major with gaps, fills empty cells with the background and clips floats', () => {
    const g = composeGrid([img(10), img(20), img(30)], [2, 2, 1], 2, { gap: 1, background: 99 });
    expect([g.width, g.height, g.channels]).toEqual([5, 5, 1]);
    const rows = Array.from({ length: 5 }, (_, y) => [...g.data.subarray(y * 5, y * 5 + 5)]);
    expect(rows).toEqual([
      [10, 10, 99, 20, 20],
      [10, 10, 99, 20, 20],
      [99, 99, 99, 99, 99],
      [30, 30, 99, 99, 99],
      [30, 30, 99, 99, 99],
    ]);
    const f = composeGrid(Float32Array.from([-1, 0.5, 1, 2]), [2, 2, 1], 4);
    expect([...f.data]).toEqual([0, 128, 255, 255]);
    expect(composeGrid(new Uint8Array(8), [2, 2, 1], 9).width).toBe(4); // no wider than the images
  });

  it('refuses what cannot be a grid in plain words', () => {
    expect(() => composeGrid([img(1)], [2, 2, 2], 1)).toThrow('A PNG grid needs 1, 3 or 4 channels; got 2.');
    expect(() => composeGrid([], [2, 2, 1], 1)).toThrow('There are no images to put in the grid.');
    expect(() => composeGrid(new Uint8Array(5), [2, 2, 1], 1)).toThrow(
      'expected a multiple of 4 values (2×2×1 images), got 5',
    );
    expect(() => composeGrid([img(1), new Uint8Array(3)], [2, 2, 1], 1)).toThrow(
      'every image must have 4 values (2×2×1); one has 3',
    );
    expect(() => composeGrid([img(1)], [2, 2, 1], 0)).toThrow('cols must be a whole number ≥ 1');
  });

  it('writes the PNG scaled up by whole pixels, and nothing for a refused grid', async () => {
    const dir = tmp();
    const out = path.join(dir, 'grid.png');
    const r = await writeImageGridPng([img(0), img(255)], [2, 2, 1], 2, out, { scale: 3 });
    expect([r.width, r.height]).toEqual([12, 6]);
    expect(r.files).toEqual([out]);
    expect(r.bytes).toBe(fs.statSync(out).size);
    expect(await sharp(out).metadata()).toMatchObject({ format: 'png', width: 12, height: 6, channels: 1 });
    const { data } = await sharp(out).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect([...data.subarray(0, 12)]).toEqual([0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255]);

    await expect(writeImageGridPng([img(1)], [2, 2, 1], 1, path.join(dir, 'x.png'), { scale: 1.5 })).rejects.toThrow(
      'scale must be a whole number from 1 to 64',
    );
    await expect(writeImageGridPng([], [2, 2, 1], 1, path.join(dir, 'y.png'))).rejects.toThrow('There are no images');
    expect(fs.readdirSync(dir)).toEqual(['grid.png']);
  });
});
