// MNIST-style IDX files (images, and the label file beside them; also gzipped).
import fs from 'node:fs';
import zlib from 'node:zlib';

/** IDX (MNIST) image file: magic 0x00000803, N, rows, cols, then uint8 pixels. */
export function parseIdx(buf: Buffer): { images: Uint8Array; count: number; shape: [number, number, number] } {
  if (buf.length < 16 || buf.readUInt32BE(0) !== 0x803) throw new Error('not an IDX image file (bad magic number)');
  const [n, rows, cols] = [buf.readUInt32BE(4), buf.readUInt32BE(8), buf.readUInt32BE(12)];
  if (buf.length < 16 + n * rows * cols)
    throw new Error(
      `truncated: ${n} images of ${rows}×${cols} need ${16 + n * rows * cols} bytes, the file has ${buf.length}`,
    );
  return { images: new Uint8Array(buf.buffer, buf.byteOffset + 16, n * rows * cols), count: n, shape: [rows, cols, 1] };
}

/** train-images-idx3-ubyte[.gz] → train-labels-idx1-ubyte[.gz] beside it, if present. */
export function findIdxLabels(imageFile: string): string | undefined {
  const base = imageFile.replace(/\.gz$/, '');
  const stems = [base.replace(/images-idx3-ubyte$/, 'labels-idx1-ubyte'), base.replace(/idx3-ubyte$/, 'idx1-ubyte')];
  const candidates = stems.flatMap((s) => [s, `${s}.gz`]);
  return candidates.find((c) => c !== imageFile && fs.existsSync(c));
}

export function parseIdxLabels(raw: Buffer, gz: boolean): Uint8Array {
  const buf = gz ? zlib.gunzipSync(raw) : raw;
  if (buf.length < 8 || buf.readUInt32BE(0) !== 0x801) throw new Error('its label file is not an IDX label file');
  const n = buf.readUInt32BE(4);
  if (buf.length < 8 + n) throw new Error('its label file is truncated');
  return new Uint8Array(buf.buffer, buf.byteOffset + 8, n);
}
