// Where an upload's labels start: a picked folder is the root, so its
// sub-folders are the labels; several dropped folders are labelled by their own names.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { uploadRoot } from '../../../../src-main/host/datasets';
import { importPaths } from '../../../../src-main/datasets/import';
import sharp from 'sharp';

const png = () =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 40, b: 40 } } })
    .png()
    .toBuffer();

async function upload(files: string[]): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-up-'));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), await png());
  }
  return dir;
}
const labelsOf = async (dir: string) => (await importPaths([uploadRoot(dir)], { size: 8, mode: 'rgb', fit: 'stretch' })).report.labelCounts;

describe('uploadRoot', () => {
  it('a picked folder: its sub-folders are the labels, not its own name', async () => {
    expect(await labelsOf(await upload(['pics/cats/1.png', 'pics/cats/2.png', 'pics/dogs/3.png']))).toEqual({ cats: 2, dogs: 1 });
  });
  it('several dropped folders: their names are the labels; loose files have none', async () => {
    expect(await labelsOf(await upload(['cats/1.png', 'dogs/2.png', 'dogs/3.png']))).toEqual({ cats: 1, dogs: 2 });
    expect(await labelsOf(await upload(['1.png', '2.png']))).toEqual({ '': 2 });
  });
});
