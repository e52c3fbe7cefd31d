// NumPy arrays: .npy image stacks (uint8 0..255 or float 0..1; N×H×W or N×H×W×C) and .npz archives
// of them, labelled by a 1-D integer array of the same length. One header parser serves both; an
// .npz is opened with the same zip limits as any dropped archive (zip.ts).
import type { Limits, SkippedFile } from './options';
import { readZipEntry, scanZip } from './zip';

type Stack = { images: Uint8Array; count: number; shape: [number, number, number] };

/** The header of a .npy file: dtype, memory order, shape, and the data after it; undefined if it is not one. */
function npyHeader(buf: Buffer): { descr: string; fortran: boolean; shape: number[]; data: Buffer } | undefined {
  if (buf.length < 10 || buf.subarray(0, 6).toString('latin1') !== '\x93NUMPY') return undefined;
  const major = buf[6];
  const at = major === 1 ? 10 : 12;
  if (buf.length < at) return undefined;
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = at + headerLen;
  const header = buf.subarray(at, start).toString('latin1');
  return {
    descr: /'descr':\s*'([^']+)'/.exec(header)?.[1] ?? '',
    fortran: /'fortran_order':\s*True/.test(header),
    shape: (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(Number),
    data: buf.subarray(start),
  };
}

/** NumPy .npy of images: uint8 (0..255) or float32/float64 (0..1), shape N×H×W or N×H×W×C. */
export function parseNpy(buf: Buffer): Stack {
  const h0 = npyHeader(buf);
  if (!h0) throw new Error('not a .npy file');
  const { descr, fortran, shape, data } = h0;
  if (fortran) throw new Error('Fortran-ordered arrays are not supported');
  if (shape.length !== 3 && shape.length !== 4)
    throw new Error(`expected N×H×W or N×H×W×C, got shape (${shape.join(', ')})`);
  const [n, h, w, c = 1] = shape;
  const count = n * h * w * c;
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`shape (${shape.join(', ')}) is not a usable size`);
  const out = new Uint8Array(count);
  if (descr === '|u1' || descr === '<u1') {
    if (data.length < count) throw new Error('truncated array data');
    out.set(data.subarray(0, count));
  } else if (descr === '<f4' || descr === '<f8') {
    const size = descr === '<f4' ? 4 : 8;
    if (data.length < count * size) throw new Error('truncated array data');
    for (let i = 0; i < count; i++) {
      const v = size === 4 ? data.readFloatLE(i * 4) : data.readDoubleLE(i * 8);
      out[i] = Math.max(0, Math.min(255, Math.round((Number.isFinite(v) ? v : 0) * 255)));
    }
  } else throw new Error(`unsupported dtype ${descr}`);
  if (c !== 1 && c !== 3) throw new Error(`images need 1 or 3 channels, got ${c}`);
  return { images: out, count: n, shape: [h, w, c] };
}

/** A 1-D integer .npy array (labels), or undefined for anything else. */
function parseNpy1d(buf: Buffer): Int32Array | undefined {
  const h = npyHeader(buf);
  if (!h || h.shape.length !== 1) return undefined;
  const n = h.shape[0];
  const data = h.data;
  const read: Record<string, [number, (o: number) => number]> = {
    '|u1': [1, (o) => data[o]],
    '<u1': [1, (o) => data[o]],
    '|i1': [1, (o) => data.readInt8(o)],
    '<i4': [4, (o) => data.readInt32LE(o)],
    '<i8': [8, (o) => Number(data.readBigInt64LE(o))],
  };
  const r = read[h.descr];
  if (!r || data.length < n * r[0]) return undefined;
  return Int32Array.from({ length: n }, (_, i) => r[1](i * r[0]));
}

/** NumPy .npz (a zip of .npy arrays, e.g. x_train + y_train): image arrays, labelled by a 1-D integer array of the same length. */
export async function readNpz(
  file: string,
  rel: string,
  skipped: SkippedFile[],
  opts: Pick<Limits, 'maxZipEntries' | 'maxZipBytes' | 'maxZipRatio'>,
): Promise<Array<Stack & { label?: string }>> {
  const scanned = await scanZip(file, rel, skipped, opts, (name) => name.endsWith('.npy'));
  if (!scanned) throw new Error('not a readable .npz archive');
  const arrays = new Map<string, Buffer>();
  try {
    for (const { entry, name } of scanned.wanted)
      arrays.set(name.replace(/\.npy$/, ''), await readZipEntry(scanned.zip, entry));
  } finally {
    scanned.zip.close();
  }
  const labelArrays = new Map<number, Int32Array>();
  const imageArrays: Stack[] = [];
  for (const buf of arrays.values()) {
    const one = parseNpy1d(buf);
    if (one) labelArrays.set(one.length, one);
    else imageArrays.push(parseNpy(buf));
  }
  if (!imageArrays.length) throw new Error('no image arrays (N×H×W or N×H×W×C) inside');
  const out: Array<Stack & { label?: string }> = [];
  for (const a of imageArrays) {
    const labels = labelArrays.get(a.count);
    if (!labels) out.push(a);
    else {
      const per = a.shape[0] * a.shape[1] * a.shape[2];
      for (let i = 0; i < a.count; i++)
        out.push({
          images: a.images.subarray(i * per, (i + 1) * per),
          count: 1,
          shape: a.shape,
          label: String(labels[i]),
        });
    }
  }
  return out;
}
