// The import corpus of the datasets capability, extended with hostile files: real decompression
// bombs (PNG, GIF, JPEG, WebP declaring huge images), zip bombs (ratio, total size, entry count,
// sizes that lie), zip-slip names, zip symlink entries, and symlinks / FIFOs / devices that leave
// or jam the dropped folder. Each is skipped with its reason, quickly; the good files import;
// nothing is written anywhere.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { importPaths } from '../../src-main/datasets/import';
import { tally } from './record';

let root: string;
let outside: string;
let good: Buffer;

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([Buffer.from(type), data])) >>> 0);
  return Buffer.concat([len, Buffer.from(type), data, crc]);
}

/** A VALID 10,000 × 10,000 grayscale PNG of zeros: 100 MB of pixels in ~100 kB. */
function realPngBomb(): Buffer {
  const w = 10_000;
  const h = 10_000;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  const raw = Buffer.alloc((w + 1) * h); // filter byte 0 + zero pixels per row
  const idat = zlib.deflateSync(raw, { level: 9 });
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A GIF whose logical screen and only frame declare 65,535 × 65,535 pixels. */
async function gifBomb(): Promise<Buffer> {
  const gif = Buffer.from(
    await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } })
      .gif()
      .toBuffer(),
  );
  gif.writeUInt16LE(65_535, 6);
  gif.writeUInt16LE(65_535, 8);
  const desc = gif.indexOf(0x2c, 13); // image descriptor
  gif.writeUInt16LE(65_535, desc + 5);
  gif.writeUInt16LE(65_535, desc + 7);
  return gif;
}

/** A JPEG whose SOF header declares 60,000 × 60,000 pixels. */
async function jpegBomb(): Promise<Buffer> {
  const jpg = Buffer.from(
    await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer(),
  );
  let i = 2;
  while (i < jpg.length && !(jpg[i] === 0xff && jpg[i + 1] >= 0xc0 && jpg[i + 1] <= 0xc2)) i++;
  jpg.writeUInt16BE(60_000, i + 5);
  jpg.writeUInt16BE(60_000, i + 7);
  return jpg;
}

/** A lossy WebP whose VP8 frame header declares 16,383 × 16,383 pixels. */
async function webpBomb(): Promise<Buffer> {
  const webp = Buffer.from(
    await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } })
      .webp({ lossless: false })
      .toBuffer(),
  );
  const vp8 = webp.indexOf('VP8 ', 12, 'latin1');
  webp.writeUInt16LE(16_383, vp8 + 14);
  webp.writeUInt16LE(16_383, vp8 + 16);
  return webp;
}

/** Rewrites the declared uncompressed size of every entry (local header and central directory). */
function lieAboutSizes(zip: Buffer, size: number): Buffer {
  const out = Buffer.from(zip);
  for (let i = 0; i + 4 < out.length; i++) {
    if (out.readUInt32LE(i) === 0x04034b50) out.writeUInt32LE(size, i + 22);
    else if (out.readUInt32LE(i) === 0x02014b50) out.writeUInt32LE(size, i + 24);
  }
  return out;
}

const py = (code: string, ...args: string[]) => execFileSync('python3', ['-c', code, ...args]);

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-rel-import-'));
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-rel-outside-'));
  good = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#ffffff' } })
    .png()
    .toBuffer();
  fs.writeFileSync(path.join(outside, 'secret.png'), good);
  fs.mkdirSync(path.join(outside, 'more'));
  fs.writeFileSync(path.join(outside, 'more', 'other.png'), good);
  const d = path.join(root, 'drop');
  fs.mkdirSync(path.join(d, 'ok'), { recursive: true });
  for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(d, 'ok', `${i}.png`), good);
  fs.mkdirSync(path.join(d, 'bombs'));
  fs.writeFileSync(path.join(d, 'bombs', 'real-bomb.png'), realPngBomb());
  fs.writeFileSync(path.join(d, 'bombs', 'bomb.gif'), await gifBomb());
  fs.writeFileSync(path.join(d, 'bombs', 'bomb.jpg'), await jpegBomb());
  fs.writeFileSync(path.join(d, 'bombs', 'bomb.webp'), await webpBomb());
  fs.mkdirSync(path.join(d, 'links'));
  fs.symlinkSync(path.join(outside, 'more'), path.join(d, 'links', 'folder-out')); // a folder link out
  fs.symlinkSync('../../../' + path.basename(outside) + '/secret.png', path.join(d, 'links', 'relative-out.png'));
  fs.symlinkSync(path.join(d, 'links', 'relative-out.png'), path.join(d, 'links', 'chain-out.png')); // inside → inside → out
  fs.symlinkSync('/dev/zero', path.join(d, 'links', 'zero.png')); // an endless device
  fs.symlinkSync(path.join(d, 'ok', '0.png'), path.join(d, 'links', 'inside.png')); // fine: stays inside
  fs.mkdirSync(path.join(d, 'special'));
  execFileSync('mkfifo', [path.join(d, 'special', 'pipe.png')]); // a FIFO: reading it would block forever
  fs.symlinkSync(path.join(d, 'special', 'pipe.png'), path.join(d, 'links', 'to-pipe.png'));
  // zips
  const goodFile = path.join(root, 'good.png');
  fs.writeFileSync(goodFile, good);
  py(
    `
import zipfile, sys
good = open(sys.argv[2], 'rb').read()
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('z/ok.png', good)
    z.writestr('..\\\\..\\\\backslash.png', good)
    z.writestr('C:/drive.png', good)
    z.writestr('a/../../dotdot.png', good)
    z.writestr('bomb/ratio.png', b'\\0' * (30 * 1024 * 1024))
    info = zipfile.ZipInfo('z/link.png')
    info.external_attr = (0o120777 << 16)
    z.writestr(info, '/etc/passwd')
`,
    path.join(d, 'slip.zip'),
    goodFile,
  );
  // total-size and entry-count limits: incompressible entries
  py(
    `
import zipfile, sys, os
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    for i in range(8):
        z.writestr('big/%d.png' % i, os.urandom(300 * 1024))
`,
    path.join(root, 'total.zip'),
  );
  // sizes that lie: 10 MB of zeros declared as 40 kB (ratio looks harmless)
  py(
    `
import zipfile, sys
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('liar.png', b'\\0' * (10 * 1024 * 1024))
`,
    path.join(root, 'liar-src.zip'),
  );
  fs.writeFileSync(
    path.join(root, 'liar.zip'),
    lieAboutSizes(fs.readFileSync(path.join(root, 'liar-src.zip')), 40_000),
  );
});

describe('hostile input: the import corpus', () => {
  it('bombs, zip-slip, symlinks out, FIFOs and devices are skipped with their reasons; the good files import', async () => {
    const t = tally('hostile', 'import corpus: bombs, zip-slip, zip symlinks, symlinks out, FIFO, /dev/zero');
    const expected: Record<string, RegExp> = {
      'bombs/real-bomb.png': /10000×10000 pixels.*refused before decoding/,
      'bombs/bomb.gif': /65535×65535 pixels.*refused before decoding/,
      'bombs/bomb.jpg': /60000×60000 pixels.*refused before decoding/,
      'bombs/bomb.webp': /16383×16383 pixels.*refused before decoding/,
      'links/folder-out': /outside the imported folder/,
      'links/relative-out.png': /outside the imported folder/,
      'links/chain-out.png': /outside the imported folder/,
      'links/zero.png': /outside the imported folder/,
      'links/to-pipe.png': /not a regular file/,
      'special/pipe.png': /not a regular file/,
      'slip.zip/../../backslash.png': /unsafe path/, // a `..\..\` name, read with its backslashes as separators
      'slip.zip/C:/drive.png': /unsafe path/,
      'slip.zip/a/../../dotdot.png': /unsafe path/,
      'slip.zip/bomb/ratio.png': /zip bomb/,
      'slip.zip/z/link.png': /not an image/,
    };
    try {
      // Warm up first: the decoders (sharp's libvips, TensorFlow's PNG decoder) load on first use
      // and take a few hundred MB of RSS themselves, which is not what this measures.
      await importPaths([path.join(root, 'drop', 'ok')], { size: 16, mode: 'grayscale', fit: 'stretch' });
      const started = Date.now();
      const rssBefore = process.memoryUsage().rss;
      const { report } = await Promise.race([
        importPaths([path.join(root, 'drop')], { size: 16, mode: 'grayscale', fit: 'stretch' }),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('the import hung (a FIFO or device read?)')), 30_000),
        ),
      ]);
      const failures: Error[] = [];
      const reasons = Object.fromEntries(report.skipped.map((s) => [s.file.split(path.sep).join('/'), s.reason]));
      for (const [file, re] of Object.entries(expected)) {
        await t
          .attempt(() => expect(reasons[file] ?? '(not skipped)', `${file}: ${JSON.stringify(reasons)}`).toMatch(re))
          .catch((e) => failures.push(e as Error));
      }
      if (failures.length) throw new Error(failures.map((f) => f.message).join('\n'));
      // the good files: ok/ (3), the link that stays inside, z/ok.png from the zip
      expect(report.labelCounts).toEqual({ ok: 3, links: 1, z: 1 });
      // cheap: refused from headers, not decoded
      expect(Date.now() - started).toBeLessThan(20_000);
      // decoding the smallest bomb (10000×10000) would take 100 MB grey, 400 MB RGBA
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 2 ** 20);
      // nothing extracted or written anywhere
      for (const p of [
        path.join(root, 'backslash.png'),
        path.join(path.dirname(root), 'dotdot.png'),
        'C:/drive.png',
        path.join(root, 'drop', 'z'),
      ])
        expect(fs.existsSync(p), p).toBe(false);
      expect(fs.readdirSync(outside).sort()).toEqual(['more', 'secret.png']);
    } finally {
      t.done();
    }
  });

  it('zip limits: total unpacked size, entry count, and sizes that lie', async () => {
    const t = tally('hostile', 'zip bombs: total-size and entry-count limits, lying sizes');
    try {
      await t.attempt(async () => {
        const { report } = await importPaths([path.join(root, 'total.zip')], {
          size: 16,
          mode: 'grayscale',
          fit: 'stretch',
          maxZipBytes: 1024 * 1024,
        });
        const over = report.skipped.filter((s) => /unpacks to more than 1 MB/.test(s.reason));
        expect(over.length).toBe(5); // 3 × 300 kB fit under 1 MB, the other 5 are refused unread
      });
      await t.attempt(async () => {
        const { report } = await importPaths([path.join(root, 'total.zip')], {
          size: 16,
          mode: 'grayscale',
          fit: 'stretch',
          maxZipEntries: 3,
        });
        expect(report.skipped.filter((s) => /more than 3 entries/.test(s.reason)).length).toBe(5);
      });
      await t.attempt(async () => {
        const started = Date.now();
        const { report } = await importPaths([path.join(root, 'liar.zip')], {
          size: 16,
          mode: 'grayscale',
          fit: 'stretch',
        });
        expect(report.imported).toBe(0);
        expect(report.skipped).toMatchObject([
          { file: 'liar.zip/liar.png', reason: expect.stringMatching(/damaged zip entry: .*(too many bytes|size)/i) },
        ]);
        expect(Date.now() - started).toBeLessThan(10_000);
      });
    } finally {
      t.done();
    }
  });

  it('a FIFO or device dropped directly is refused, not read', async () => {
    const t = tally('hostile', 'dropped FIFO / character device');
    try {
      for (const p of [path.join(root, 'drop', 'special', 'pipe.png'), '/dev/zero', '/dev/urandom']) {
        await t.attempt(async () => {
          const { report } = await Promise.race([
            importPaths([p], { size: 16, mode: 'grayscale', fit: 'stretch' }),
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`reading ${p} hung`)), 10_000)),
          ]);
          expect(report.imported).toBe(0);
          expect(report.skipped[0].reason).toMatch(/not a regular file|unsupported file type/);
        });
      }
    } finally {
      t.done();
    }
  });
});
