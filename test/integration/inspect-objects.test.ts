// The object pictures of the offline inspection set (test/helpers/objects.ts), which
// `npm run bench:inspect` measures beside its textures: the same seed draws the same pictures, a
// defect changes exactly the pixels of its mask and only on the object, good pictures carry no
// defect, and the written folder imports through the real MVTec import with the drawn pixels and masks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importMvtec } from '../../src-main/datasets/import/mvtec';
import { mulberry32 } from '../../src-main/engine/rng';
import {
  OBJECTS,
  OBJECT_DEFECTS,
  coverage,
  drawObjectDefect,
  objectPicture,
  writeObjectSet,
  type ObjectKind,
} from '../helpers/objects';

const SIZE = 64;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const area = (depth: Float32Array) => depth.reduce((s, d) => s + coverage(d), 0);

describe('offline object pictures for inspection', () => {
  it('are the same for the same seed and differ between seeds and between pictures (pose jitter)', () => {
    for (const kind of OBJECTS) {
      const a = mulberry32(11);
      const b = mulberry32(11);
      const first = objectPicture(kind, SIZE, a);
      expect(objectPicture(kind, SIZE, b).img).toEqual(first.img);
      const m1 = drawObjectDefect(first, 'scratch', SIZE, a);
      const again = objectPicture(kind, SIZE, mulberry32(11));
      expect(drawObjectDefect(again, 'scratch', SIZE, b)).toEqual(m1);
      expect(again.img).toEqual(first.img);
      expect(objectPicture(kind, SIZE, mulberry32(12)).img).not.toEqual(objectPicture(kind, SIZE, mulberry32(11)).img);
      // the pose moves: the object's centre differs between pictures, by a few pixels at most
      const rand = mulberry32(5);
      const centres = Array.from({ length: 20 }, () => {
        const { depth } = objectPicture(kind, SIZE, rand);
        let sx = 0;
        let sy = 0;
        let sw = 0;
        depth.forEach((d, i) => {
          const w = coverage(d);
          sx += w * (i % SIZE);
          sy += w * Math.floor(i / SIZE);
          sw += w;
        });
        return [sx / sw, sy / sw];
      });
      const xs = centres.map((c) => c[0]);
      const ys = centres.map((c) => c[1]);
      expect(Math.max(...xs) - Math.min(...xs)).toBeGreaterThan(1.5);
      expect(Math.max(...ys) - Math.min(...ys)).toBeGreaterThan(1.5);
      for (const c of [...xs, ...ys]) expect(Math.abs(c - (SIZE / 2 - 0.5))).toBeLessThan(3.5);
    }
  });

  it('draws each defect exactly on its mask, and only on the object', () => {
    for (const kind of OBJECTS) {
      for (const defect of OBJECT_DEFECTS) {
        for (let seed = 1; seed <= 8; seed++) {
          const rand = mulberry32(seed);
          const p = objectPicture(kind, SIZE, rand);
          const clean = p.img.slice();
          const mask = drawObjectDefect(p, defect, SIZE, rand);
          let on = 0;
          let changed = 0;
          let change = 0;
          for (let i = 0; i < SIZE * SIZE; i++) {
            const diff = [0, 1, 2].reduce((s, c) => s + Math.abs(p.img[i * 3 + c] - clean[i * 3 + c]), 0) / 3;
            if (!mask[i]) {
              expect(diff, `${kind} ${defect} seed ${seed}: pixel ${i} changed outside the mask`).toBe(0);
              continue;
            }
            on++;
            change += diff;
            if (diff > 0) changed++;
            // on the object: fully inside it, or for a missing piece any pixel the object covers
            if (defect === 'notch') expect(coverage(p.depth[i])).toBeGreaterThan(0);
            else expect(coverage(p.depth[i])).toBe(1);
          }
          expect(on, `${kind} ${defect} seed ${seed}`).toBeGreaterThan(3);
          expect(on).toBeLessThan(0.1 * SIZE * SIZE);
          expect(changed / on, `${kind} ${defect} seed ${seed}: mask pixels left as they were`).toBeGreaterThan(0.8);
          expect(change / on, `${kind} ${defect} seed ${seed}: too faint`).toBeGreaterThan(0.05);
          // a missing piece removes object; the other defects leave its outline alone
          if (defect === 'notch') {
            const missing = [...mask.keys()].filter((i) => mask[i]).reduce((s, i) => s + coverage(p.depth[i]), 0);
            expect(missing).toBeGreaterThan(3);
          }
        }
      }
    }
  });

  it('writes an MVTec folder that imports with the drawn pictures and masks, good pictures defect-free', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-inspect-objects-'));
    dirs.push(dir);
    const object: ObjectKind = 'pill';
    const spec = { object, size: SIZE, train: 6, testGood: 3, perDefect: 2, seed: 4 };
    await writeObjectSet(dir, spec);
    const set = await importMvtec(dir, { size: SIZE, mode: 'rgb', fit: 'stretch' });
    expect(set.layout).toBe('mvtec');
    expect(set.train.count).toBe(6);
    expect(set.test.labelNames).toEqual(['good', ...[...OBJECT_DEFECTS].sort()]);
    expect(set.test.count).toBe(3 + 4 * 2);

    // the same sequence drawn again in memory: good pictures are plain renders (no defect), each
    // defective one has its drawn mask; the files hold exactly these pixels
    const rand = mulberry32(spec.seed);
    const per = SIZE * SIZE * 3;
    const toBytes = (img: Float32Array) => Uint8Array.from(img, (v) => Math.round(v * 255));
    const goodAreas: number[] = [];
    for (let i = 0; i < 6; i++) {
      const p = objectPicture(object, SIZE, rand);
      goodAreas.push(area(p.depth));
      expect(set.train.images.subarray(i * per, (i + 1) * per)).toEqual(toBytes(p.img));
    }
    const expected = new Map<string, { img: Uint8Array; mask: Uint8Array }[]>();
    expected.set(
      'good',
      Array.from({ length: 3 }, () => ({
        img: toBytes(objectPicture(object, SIZE, rand).img),
        mask: new Uint8Array(SIZE * SIZE),
      })),
    );
    for (const d of OBJECT_DEFECTS) {
      expected.set(
        d,
        Array.from({ length: 2 }, () => {
          const p = objectPicture(object, SIZE, rand);
          const mask = drawObjectDefect(p, d, SIZE, rand);
          return { img: toBytes(p.img), mask };
        }),
      );
    }
    // the good pictures hold the whole object: its area varies little with the pose
    expect(Math.max(...goodAreas) / Math.min(...goodAreas)).toBeLessThan(1.03);
    const masks = set.test.masks!;
    const seen = new Map<string, number>();
    for (let i = 0; i < set.test.count; i++) {
      const label = set.test.labelNames[set.test.labels[i]];
      const k = seen.get(label) ?? 0;
      seen.set(label, k + 1);
      const want = expected.get(label)![k];
      expect(set.test.images.subarray(i * per, (i + 1) * per)).toEqual(want.img);
      const got = masks.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE);
      expect(Uint8Array.from(got, (v) => (v ? 1 : 0))).toEqual(want.mask);
      if (label !== 'good') expect(got.some((v) => v)).toBe(true);
    }
  });
});
