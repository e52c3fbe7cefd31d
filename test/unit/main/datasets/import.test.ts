// The import pipeline on a real corpus written to disk: every supported format, and every kind
// of bad input, each skipped with its reason while the rest imports.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { ImportCancelled, importPaths, parseIdx, parseNpy } from '../../../../src-main/datasets/import';

let root: string;
let outside: string;
const rgb = (w: number, h: number, fill: [number, number, number]) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: fill[0], g: fill[1], b: fill[2] } } });

/** A 24-bit uncompressed BMP written by hand (sharp cannot write BMP). */
function bmp(w: number, h: number, v: number): Buffer {
  const row = Math.ceil((w * 3) / 4) * 4;
  const buf = Buffer.alloc(54 + row * h);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(w, 18);
  buf.writeInt32LE(h, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  buf.writeUInt32LE(row * h, 34);
  buf.fill(v, 54);
  return buf;
}

/** A PNG header that declares a huge image (a decompression bomb is refused from this alone). */
function bombPng(): Buffer {
  const sig = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(100_000, 0);
  ihdr.writeUInt32BE(100_000, 4);
  ihdr[8] = 8;
  ihdr[9] = 0;
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(Buffer.concat([Buffer.from(type), data])) >>> 0);
    return Buffer.concat([len, Buffer.from(type), data, crc]);
  };
  return Buffer.concat([
    sig,
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.alloc(1000))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-import-'));
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-outside-'));
  fs.writeFileSync(path.join(outside, 'secret.png'), await rgb(8, 8, [255, 255, 255]).png().toBuffer());
  const cats = path.join(root, 'cats');
  const dogs = path.join(root, 'цифры'); // a label in another script
  fs.mkdirSync(cats);
  fs.mkdirSync(dogs);
  // good files, one per format
  fs.writeFileSync(path.join(cats, 'a.png'), await rgb(40, 30, [200, 10, 10]).png().toBuffer());
  fs.writeFileSync(path.join(cats, 'b.jpg'), await rgb(50, 50, [10, 200, 10]).jpeg().toBuffer());
  fs.writeFileSync(path.join(cats, 'c.gif'), await rgb(20, 20, [10, 10, 200]).gif().toBuffer());
  fs.writeFileSync(path.join(cats, 'd.webp'), await rgb(30, 30, [128, 128, 128]).webp().toBuffer());
  fs.writeFileSync(path.join(cats, 'e.bmp'), bmp(16, 16, 90));
  fs.writeFileSync(
    path.join(dogs, '日本.png'),
    await sharp({ create: { width: 64, height: 64, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 0.5 } } })
      .png()
      .toBuffer(),
  ); // alpha
  fs.writeFileSync(
    path.join(dogs, '16bit.png'),
    await rgb(12, 12, [255, 255, 255]).toColourspace('rgb16').png().toBuffer(),
  );
  fs.writeFileSync(path.join(dogs, 'palette.png'), await rgb(12, 12, [250, 0, 0]).png({ palette: true }).toBuffer());
  // EXIF orientation 6 (rotate 90°): a 40×10 image must come out as portrait content
  fs.writeFileSync(
    path.join(dogs, 'rotated.jpg'),
    await rgb(40, 10, [255, 255, 255]).jpeg().withMetadata({ orientation: 6 }).toBuffer(),
  );
  // bad files
  fs.writeFileSync(path.join(cats, 'empty.png'), Buffer.alloc(0));
  const good = await rgb(64, 64, [1, 2, 3]).png().toBuffer();
  fs.writeFileSync(path.join(cats, 'truncated.png'), good.subarray(0, good.length - 40));
  fs.writeFileSync(path.join(cats, 'text.jpg'), 'this is not a picture');
  fs.writeFileSync(path.join(cats, 'notes.txt'), 'hello');
  fs.writeFileSync(path.join(cats, 'scan.tiff'), await rgb(8, 8, [0, 0, 0]).tiff().toBuffer());
  fs.writeFileSync(path.join(cats, 'bomb.png'), bombPng());
  fs.writeFileSync(path.join(cats, 'inner.tar'), 'not really a tar');
  fs.symlinkSync(root, path.join(dogs, 'loop')); // a folder link back up
  fs.symlinkSync(path.join(outside, 'secret.png'), path.join(dogs, 'escape.png')); // leaves the folder
  fs.symlinkSync(path.join(root, 'nowhere.png'), path.join(dogs, 'dangling.png'));
  // a zip with good, hostile and nested entries, and a zip bomb entry
  const zipPy = `
import zipfile, sys
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('birds/ok.png', open(sys.argv[2], 'rb').read())
    z.writestr('../evil.png', open(sys.argv[2], 'rb').read())
    z.writestr('/abs/evil.png', open(sys.argv[2], 'rb').read())
    z.writestr('birds/nested.zip', b'PK')
    z.writestr('birds/bomb.png', b'\\0' * (20 * 1024 * 1024))
`;
  fs.writeFileSync(path.join(root, 'tmp-ok.png'), good);
  execFileSync('python3', ['-c', zipPy, path.join(root, 'more.zip'), path.join(root, 'tmp-ok.png')]);
  fs.rmSync(path.join(root, 'tmp-ok.png'));
});

describe('import pipeline', () => {
  it('imports every supported format with labels from sub-folders and skips each bad file with its reason', async () => {
    const progress: number[] = [];
    const { dataset, report } = await importPaths([root], {
      size: 28,
      mode: 'grayscale',
      fit: 'stretch',
      onProgress: (p) => progress.push(p.done),
    });
    const reasons = Object.fromEntries(report.skipped.map((s) => [s.file.split(path.sep).join('/'), s.reason]));
    expect(report.imported).toBe(10); // 5 cats + 4 in цифры + birds/ok.png from the zip
    expect(report.labelCounts).toEqual({ cats: 5, цифры: 4, birds: 1 });
    expect(dataset.shape).toEqual([28, 28, 1]);
    expect(dataset.images.length).toBe(10 * 784);
    expect(dataset.labelNames).toEqual(['birds', 'cats', 'цифры']);
    expect(reasons['cats/empty.png']).toMatch(/empty file/);
    expect(reasons['cats/truncated.png']).toMatch(/corrupt or truncated/);
    expect(reasons['cats/truncated.png']).not.toMatch(/vips|libpng|TF_Status/i); // plain words, not the decoder's
    expect(reasons['cats/text.jpg']).toMatch(/not an image/);
    expect(reasons['cats/notes.txt']).toMatch(/unsupported file type '.txt'/);
    expect(reasons['cats/scan.tiff']).toMatch(/unsupported file type '.tiff'/);
    expect(reasons['cats/bomb.png']).toMatch(/100000×100000 pixels.*refused before decoding/);
    expect(reasons['cats/inner.tar']).toMatch(/unsupported archive/);
    expect(reasons['цифры/loop']).toMatch(/symbolic link loop/);
    expect(reasons['цифры/escape.png']).toMatch(/outside the imported folder/);
    expect(reasons['цифры/dangling.png']).toMatch(/not found/);
    expect(reasons['more.zip/../evil.png']).toMatch(/unsafe path/);
    expect(reasons['more.zip//abs/evil.png']).toMatch(/unsafe path/);
    expect(reasons['more.zip/birds/nested.zip']).toMatch(/nested archive/);
    expect(reasons['more.zip/birds/bomb.png']).toMatch(/zip bomb/);
    // nothing was written outside (or anywhere)
    expect(fs.existsSync(path.join(path.dirname(root), 'evil.png'))).toBe(false);
    expect(fs.existsSync('/abs/evil.png')).toBe(false);
    expect(progress.at(-1)).toBeGreaterThan(0);
  });

  it('converts colour, applies EXIF orientation, flattens alpha and pads or crops', async () => {
    const dogs = path.join(root, 'цифры');
    const { dataset } = await importPaths([path.join(dogs, 'rotated.jpg')], {
      size: 20,
      mode: 'grayscale',
      fit: 'pad',
    });
    // 40×10 white, rotated to 10×40 and padded: the middle column is white, the left edge black
    const px = (x: number, y: number) => dataset.images[y * 20 + x];
    expect(px(10, 10)).toBeGreaterThan(200);
    expect(px(0, 10)).toBeLessThan(30);
    const rgbOut = await importPaths([path.join(root, 'cats', 'a.png')], { size: 8, mode: 'rgb', fit: 'crop' });
    expect(rgbOut.dataset.shape).toEqual([8, 8, 3]);
    expect(Array.from(rgbOut.dataset.images.subarray(0, 3))).toEqual([200, 10, 10]);
    const alpha = await importPaths([path.join(dogs, '日本.png')], { size: 4, mode: 'grayscale', fit: 'stretch' });
    expect(alpha.dataset.images[0]).toBeGreaterThan(100); // half-transparent white on black
    expect(alpha.dataset.images[0]).toBeLessThan(160);
  });

  it('reads MNIST-style IDX files with their label file, and NumPy arrays', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-idx-'));
    const n = 3;
    const img = Buffer.alloc(16 + n * 28 * 28);
    img.writeUInt32BE(0x803, 0);
    img.writeUInt32BE(n, 4);
    img.writeUInt32BE(28, 8);
    img.writeUInt32BE(28, 12);
    img.fill(77, 16);
    const lab = Buffer.from([0, 0, 8, 1, 0, 0, 0, n, 4, 2, 4]);
    fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'), zlib.gzipSync(img));
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), lab);
    const npyHeader = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 28, 28), }";
    const pad = 64 - ((10 + npyHeader.length + 1) % 64);
    const header = npyHeader + ' '.repeat(pad) + '\n';
    const npy = Buffer.concat([
      Buffer.from('\x93NUMPY\x01\x00', 'latin1'),
      Buffer.from([header.length & 255, header.length >> 8]),
      Buffer.from(header, 'latin1'),
      Buffer.alloc(2 * 784, 5),
    ]);
    fs.writeFileSync(path.join(dir, 'arr.npy'), npy);
    fs.writeFileSync(path.join(dir, 'broken.npy'), npy.subarray(0, 200));
    const { dataset, report } = await importPaths([dir], { size: 28, mode: 'grayscale', fit: 'stretch' });
    expect(report.imported).toBe(5);
    expect(report.labelCounts).toEqual({ '4': 2, '2': 1, '': 2 });
    expect(report.skipped).toMatchObject([{ file: 'broken.npy', reason: expect.stringMatching(/truncated/) }]);
    expect(dataset.images[0]).toBe(5); // npy stack comes first... or IDX: both constant, check both values exist
    expect(new Set(dataset.images)).toEqual(new Set([5, 77]));
    expect(() => parseIdx(Buffer.alloc(20))).toThrow(/magic/);
    expect(() => parseNpy(Buffer.from('nope'))).toThrow(/not a .npy/);
  });

  it('reads a NumPy .npz of images labelled by an integer array', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-npz-'));
    const py = `
import io, zipfile, struct, sys
def npy(descr, shape, data):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    header += ' ' * (64 - (10 + len(header) + 1) % 64) + '\\n'
    return b'\\x93NUMPY\\x01\\x00' + struct.pack('<H', len(header)) + header.encode('latin1') + data
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('x_train.npy', npy('|u1', '(4, 28, 28)', bytes([9]) * (4 * 784)))
    z.writestr('y_train.npy', npy('<i8', '(4,)', struct.pack('<4q', 3, 1, 3, 3)))
`;
    execFileSync('python3', ['-c', py, path.join(dir, 'data.npz')]);
    const { dataset, report } = await importPaths([path.join(dir, 'data.npz')], {
      size: 28,
      mode: 'grayscale',
      fit: 'stretch',
    });
    expect(report.imported).toBe(4);
    expect(report.labelCounts).toEqual({ '3': 3, '1': 1 });
    expect(dataset.images[0]).toBe(9);
  });

  it('opens a .npz with the same zip-bomb limits as a dropped zip: a deflated array that inflates too far is refused unread', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-npz-bomb-'));
    const py = `
import zipfile, struct, sys
def npy(descr, shape, data):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    header += ' ' * (64 - (10 + len(header) + 1) % 64) + '\\n'
    return b'\\x93NUMPY\\x01\\x00' + struct.pack('<H', len(header)) + header.encode('latin1') + data
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('x_small.npy', npy('|u1', '(2, 28, 28)', bytes(range(256)) * 6 + bytes(32)))
    z.writestr('x_bomb.npy', npy('|u1', '(20000, 28, 28)', bytes(20000 * 784)))
`;
    execFileSync('python3', ['-c', py, path.join(dir, 'data.npz')]);
    const { dataset, report } = await importPaths([path.join(dir, 'data.npz')], {
      size: 28,
      mode: 'grayscale',
      fit: 'stretch',
    });
    expect(report.skipped).toEqual([
      { file: 'data.npz/x_bomb.npy', reason: expect.stringMatching(/looks like a zip bomb/) },
    ]);
    expect(report.imported).toBe(2);
    expect(dataset.count).toBe(2);
  });

  it('can be cancelled and then returns nothing', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(
      importPaths([root], { size: 28, mode: 'grayscale', fit: 'stretch', signal: ctrl.signal }),
    ).rejects.toBeInstanceOf(ImportCancelled);
  });

  it('hears a cancel and sends progress while plain PNGs decode (it gives the event loop a turn as it goes)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-cancel-'));
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 9, g: 9, b: 9 } } })
      .png()
      .toBuffer();
    for (let i = 0; i < 1000; i++) fs.writeFileSync(path.join(dir, `${i}.png`), png);
    // a timer is an event-loop task, like a cancel request arriving from the host
    const ctrl = new AbortController();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const whole = await importPaths([dir], { size: 8, mode: 'grayscale', fit: 'stretch' });
    clearInterval(timer);
    expect(whole.report.imported).toBe(1000);
    expect(ticks).toBeGreaterThan(0);
    setTimeout(() => ctrl.abort(), 0);
    await expect(
      importPaths([dir], { size: 8, mode: 'grayscale', fit: 'stretch', signal: ctrl.signal }),
    ).rejects.toBeInstanceOf(ImportCancelled);
  });
});

describe('plain PNGs already at the target size', () => {
  it('come out with exactly their own pixels, grayscale and RGB, palette included', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-same-size-'));
    const gray = Buffer.from(Array.from({ length: 12 * 12 }, (_, i) => (i * 7) % 256));
    const colour = Buffer.from(Array.from({ length: 12 * 12 * 3 }, (_, i) => (i * 13 + 5) % 256));
    fs.mkdirSync(path.join(dir, 'g'));
    fs.mkdirSync(path.join(dir, 'c'));
    await sharp(gray, { raw: { width: 12, height: 12, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(path.join(dir, 'g', 'gray.png'));
    await sharp(colour, { raw: { width: 12, height: 12, channels: 3 } })
      .png()
      .toFile(path.join(dir, 'c', 'colour.png'));
    const g = await importPaths([path.join(dir, 'g')], { size: 12, mode: 'grayscale', fit: 'stretch' });
    expect(Buffer.from(g.dataset.images).equals(gray)).toBe(true);
    const c = await importPaths([path.join(dir, 'c')], { size: 12, mode: 'rgb', fit: 'crop' });
    expect(Buffer.from(c.dataset.images).equals(colour)).toBe(true);
    // a palette PNG of four flat colours, at its size
    const flat = Buffer.alloc(12 * 12 * 3);
    for (let i = 0; i < 144; i++)
      flat.set(
        [
          [250, 0, 0],
          [0, 250, 0],
          [0, 0, 250],
          [40, 40, 40],
        ][Math.floor(i / 36)],
        i * 3,
      );
    await sharp(flat, { raw: { width: 12, height: 12, channels: 3 } })
      .png({ palette: true })
      .toFile(path.join(dir, 'c', 'palette.png'));
    const p = await importPaths([path.join(dir, 'c', 'palette.png')], { size: 12, mode: 'rgb', fit: 'pad' });
    expect(Buffer.from(p.dataset.images).equals(flat)).toBe(true);
  });
});

describe('transparent pixels', () => {
  it('become black by default and white when asked, padding included', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-alpha-'));
    // a 20×10 RGBA picture: left half opaque red, right half fully transparent
    const px = Buffer.alloc(20 * 10 * 4);
    for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) px.set([255, 0, 0, 255], (y * 20 + x) * 4);
    await sharp(px, { raw: { width: 20, height: 10, channels: 4 } })
      .png()
      .toFile(path.join(dir, 'half.png'));
    const at = (d: Uint8Array, x: number, y: number) => Array.from(d.subarray((y * 20 + x) * 3, (y * 20 + x) * 3 + 3));
    const black = await importPaths([dir], { size: 20, mode: 'rgb', fit: 'pad' });
    const white = await importPaths([dir], { size: 20, mode: 'rgb', fit: 'pad', background: 'white' });
    expect(at(black.dataset.images, 2, 10)).toEqual([255, 0, 0]);
    expect(at(black.dataset.images, 17, 10)).toEqual([0, 0, 0]); // transparent
    expect(at(black.dataset.images, 2, 1)).toEqual([0, 0, 0]); // padding
    expect(at(white.dataset.images, 2, 10)).toEqual([255, 0, 0]);
    expect(at(white.dataset.images, 17, 10)).toEqual([255, 255, 255]);
    expect(at(white.dataset.images, 2, 1)).toEqual([255, 255, 255]);
  });
});

describe('ae-studio import', () => {
  it('imports a folder into the store and prints the report as JSON; nothing usable → exit 1, nothing written', async () => {
    const { run } = await import('../../../../src-main/cli/main');
    const { listDatasets, loadDataset } = await import('../../../../src-main/datasets/store');
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-cli-ws-'));
    const out: string[] = [];
    expect(
      await run(
        ['import', path.join(root, 'cats'), '--workspace', ws, '--name', 'Cats', '--size', '16', '--json'],
        (s) => out.push(s),
      ),
    ).toBe(0);
    const report = JSON.parse(out[0]);
    expect(report).toMatchObject({ imported: 5, labelCounts: { '': 5 } });
    expect(report.skipped.map((s: { file: string }) => s.file).sort()).toEqual([
      'bomb.png',
      'empty.png',
      'inner.tar',
      'notes.txt',
      'scan.tiff',
      'text.jpg',
      'truncated.png',
    ]);
    expect(loadDataset(ws, report.dataset).shape).toEqual([16, 16, 1]);
    const junk = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-junk-'));
    fs.writeFileSync(path.join(junk, 'a.txt'), 'x');
    out.length = 0;
    expect(await run(['import', junk, '--workspace', ws, '--name', 'Junk'], (s) => out.push(s))).toBe(1);
    expect(out[0]).toMatch(/Nothing imported; 1 files skipped/);
    expect(listDatasets(ws).length).toBe(1);
  });
});
