// Minimal NumPy .npy (format 1.0, little-endian float32, C order) reader and writer for the export tests.
import fs from 'node:fs';

export function writeNpy(file: string, data: Float32Array, shape: number[]): void {
  const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + header.length + 1;
  const padded = header + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(pre, 0);
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(padded.length, 8);
  fs.writeFileSync(
    file,
    Buffer.concat([pre, Buffer.from(padded, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]),
  );
}

export function readNpy(file: string): { data: Float32Array; shape: number[] } {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file} is not a .npy file`);
  const major = buf[6];
  const len = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + len);
  if (!header.includes("'descr': '<f4'") || header.includes("'fortran_order': True"))
    throw new Error(`${file}: expected little-endian float32 in C order, got ${header.trim()}`);
  const shape = (/'shape': \(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const body = buf.subarray(start + len);
  return { data: new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)), shape };
}
