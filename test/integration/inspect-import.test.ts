// Importing inspection sets through the real CLI: the MVTec AD layout (two datasets that name each
// other, test pictures never in the training set, defect types as labels, masks aligned and resized
// with nearest neighbour), good pictures + suspects, and the refusals that write nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDatasets, loadDataset, loadMasks } from '../../src-main/datasets/store';
import { runCli } from '../helpers/cli';
import { writeInspectionSet } from '../helpers/defects';

let dir: string;
let set: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-inspect-import-'));
  set = path.join(dir, 'fabric');
  await writeInspectionSet(set, {
    texture: 'weave',
    size: 40,
    channels: 1,
    train: 8,
    testGood: 3,
    perDefect: 2,
    defects: ['scratch', 'blob'],
    seed: 3,
  });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const copySet = (name: string) => {
  const to = path.join(dir, name);
  fs.cpSync(set, to, { recursive: true });
  return to;
};

describe('ae-studio import of inspection sets', () => {
  it('recognises the MVTec AD layout: training set of good pictures, test set with defect labels and aligned masks', async () => {
    const ws = path.join(dir, 'ws1');
    const { code, out, err } = await runCli(
      'import',
      set,
      '--workspace',
      ws,
      '--name',
      'Fabric',
      '--size',
      '20',
      '--json',
    );
    expect(code, err).toBe(0);
    const r = JSON.parse(out) as { layout: string; dataset: string; testDataset: string; masks: boolean };
    expect(r.layout).toBe('mvtec');
    expect(r.masks).toBe(true);
    const train = loadDataset(ws, r.dataset);
    const test = loadDataset(ws, r.testDataset);
    expect(train.count).toBe(8);
    expect(train.manifest.labelNames).toEqual(['good']);
    expect(train.manifest.inspection).toMatchObject({ role: 'train', pair: r.testDataset });
    expect(test.count).toBe(3 + 2 + 2);
    expect(test.manifest.labelNames).toEqual(['good', 'blob', 'scratch']);
    expect(test.manifest.inspection).toMatchObject({ role: 'test', pair: r.dataset, goodLabel: 0, masks: true });
    expect(test.manifest.name).toBe('Fabric (test)');
    // masks: good pictures all zero, defective ones non-empty, only 0 and 255 (nearest neighbour)
    const masks = loadMasks(ws, r.testDataset)!;
    expect(masks.length).toBe(7 * 20 * 20);
    expect(new Set(masks)).toEqual(new Set([0, 255]));
    for (let i = 0; i < 7; i++) {
      const on = masks.subarray(i * 400, (i + 1) * 400).filter((v) => v).length;
      if (test.labels![i] === 0) expect(on).toBe(0);
      else expect(on).toBeGreaterThan(0);
    }
    // the mask lines up with its picture: the first scratch, resized alone with nearest neighbour, is the stored mask
    const scratch = Array.from(test.labels!).indexOf(2);
    const { data } = await sharp(path.join(set, 'ground_truth', 'scratch', '000_mask.png'))
      .grayscale()
      .resize(20, 20, { fit: 'fill', kernel: 'nearest' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(Array.from(masks.subarray(scratch * 400, (scratch + 1) * 400))).toEqual(
      Array.from(data, (v) => (v > 127 ? 255 : 0)),
    );
    // no test picture is in the training set
    const key = (a: Uint8Array, i: number) => Buffer.from(a.subarray(i * 400, (i + 1) * 400)).toString('base64');
    const trained = new Set(Array.from({ length: train.count }, (_, i) => key(train.images as Uint8Array, i)));
    for (let i = 0; i < test.count; i++) expect(trained.has(key(test.images as Uint8Array, i))).toBe(false);
  });

  it('imports good pictures plus a folder of suspects', async () => {
    const ws = path.join(dir, 'ws2');
    const { code, out, err } = await runCli(
      'import',
      path.join(set, 'train', 'good'),
      '--suspects',
      path.join(set, 'test', 'blob'),
      '--workspace',
      ws,
      '--name',
      'Parts',
      '--size',
      '16',
      '--json',
    );
    expect(code, err).toBe(0);
    const r = JSON.parse(out) as { layout: string; dataset: string; testDataset: string; masks: boolean };
    expect(r.layout).toBe('good-suspects');
    expect(r.masks).toBe(false);
    expect(loadDataset(ws, r.dataset).count).toBe(8);
    const test = loadDataset(ws, r.testDataset);
    expect(test.count).toBe(2);
    expect(test.manifest.labelNames).toEqual(['good', 'suspect']);
    expect(loadMasks(ws, r.testDataset)).toBeUndefined();
  });

  it('refuses, in plain words and writing nothing: a mask of the wrong size, a mask named for no picture, a test folder without good pictures', async () => {
    const wrongSize = copySet('wrong-size');
    await sharp(Buffer.alloc(30 * 30), { raw: { width: 30, height: 30, channels: 1 } })
      .png()
      .toFile(path.join(wrongSize, 'ground_truth', 'blob', '001_mask.png'));
    const wrongName = copySet('wrong-name');
    fs.renameSync(
      path.join(wrongName, 'ground_truth', 'blob', '001_mask.png'),
      path.join(wrongName, 'ground_truth', 'blob', '007_mask.png'),
    );
    const noGood = copySet('no-good');
    fs.rmSync(path.join(noGood, 'test', 'good'), { recursive: true });
    const cases: Array<[string, RegExp]> = [
      [wrongSize, /mask .*001_mask\.png is 30×30 but its picture .*001\.png is 40×40/],
      [wrongName, /mask .*007_mask\.png matches no picture/],
      [noGood, /has no good pictures \(test\/good\)/],
    ];
    for (const [root, message] of cases) {
      const ws = path.join(dir, `ws-${path.basename(root)}`);
      const { code, err } = await runCli('import', root, '--workspace', ws, '--name', 'Bad', '--size', '20');
      expect(code).toBe(1);
      expect(err).toMatch(message);
      expect(listDatasets(ws)).toEqual([]);
    }
  });
});
