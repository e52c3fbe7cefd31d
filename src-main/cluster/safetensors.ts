// safetensors (https://github.com/huggingface/safetensors) read and written in TypeScript, no Python:
// 8 bytes little-endian header length N, N bytes of JSON ({name: {dtype, shape, data_offsets}},
// optional "__metadata__" of strings), then the raw little-endian tensor bytes.
//
// The reader treats every file as hostile: the header is bounded before it is read, every entry is
// checked (dtype, shape, offsets inside the file, sizes that agree, no overlaps or holes), the
// caller's expected names and shapes are compared BEFORE any tensor is read, and each tensor is
// read into an array of exactly its declared size (so what is allocated is bounded by the file's
// real size and the caller's plan) and checked for NaN / infinity.
import fs from 'node:fs';

export type SafeDtype = 'F32' | 'U8' | 'I32' | 'I64';
const BYTES: Record<SafeDtype, number> = { F32: 4, U8: 1, I32: 4, I64: 8 };

export interface SafeEntry {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  /** Byte offsets inside the data section (after the header). */
  begin: number;
  end: number;
}

export interface SafeHeader {
  file: string;
  entries: Map<string, SafeEntry>;
  metadata: Record<string, string>;
  /** Where the data section starts in the file (8 + header length). */
  dataStart: number;
  fileSize: number;
}

/** A file that is not a readable, well-formed safetensors file, or does not hold what was expected. */
export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
}

/** Headers above this are refused unread (real ones are a few kB per hundred tensors). */
export const MAX_HEADER_BYTES = 16 * 2 ** 20;

export interface ReadHeaderOptions {
  /** Refuse the file unread when it is larger than this (e.g. the expected weights plus a header). */
  maxFileBytes?: number;
  maxHeaderBytes?: number;
  /** What the file is, in the messages (e.g. "out/checkpoint/model.safetensors"). */
  label?: string;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Reads and checks the header only (the tensors stay on disk). */
export function readSafetensorsHeader(file: string, opts: ReadHeaderOptions = {}): SafeHeader {
  const label = opts.label ?? file;
  const fail = (why: string): never => {
    throw new SafetensorsError(`${label}: ${why}`);
  };
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    return fail(`cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!st.isFile()) fail('is not a regular file');
  if (st.size < 8) fail(`is truncated (${st.size} bytes; a safetensors file starts with an 8-byte header length)`);
  if (opts.maxFileBytes !== undefined && st.size > opts.maxFileBytes) {
    fail(
      `is ${st.size.toLocaleString('en-US')} bytes, more than the ${opts.maxFileBytes.toLocaleString('en-US')} its tensors can take: refused unread`,
    );
  }
  const fd = fs.openSync(file, 'r');
  try {
    const lenBuf = Buffer.alloc(8);
    fs.readSync(fd, lenBuf, 0, 8, 0);
    const n = lenBuf.readBigUInt64LE(0);
    const maxHeader = opts.maxHeaderBytes ?? MAX_HEADER_BYTES;
    if (n > BigInt(maxHeader))
      fail(
        `declares a ${n.toString()}-byte header (at most ${maxHeader.toLocaleString('en-US')} is accepted): refused unread`,
      );
    const headerLen = Number(n);
    if (8 + headerLen > st.size)
      fail(`is truncated: its header says ${headerLen} bytes but the file has ${st.size - 8} after the length`);
    const hb = Buffer.alloc(headerLen);
    fs.readSync(fd, hb, 0, headerLen, 8);
    let json: unknown;
    try {
      json = JSON.parse(hb.toString('utf8'));
    } catch (err) {
      return fail(`has a header that is not JSON (${(err as Error).message})`);
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) fail('has a header that is not a JSON object');
    const entries = new Map<string, SafeEntry>();
    let metadata: Record<string, string> = {};
    const dataLen = st.size - 8 - headerLen;
    for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (
          !raw ||
          typeof raw !== 'object' ||
          Array.isArray(raw) ||
          !Object.values(raw).every((v) => typeof v === 'string')
        )
          fail('has __metadata__ that is not a map of strings');
        metadata = raw as Record<string, string>;
        continue;
      }
      const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (!e || typeof e !== 'object') fail(`tensor '${name}' is not described by an object`);
      if (typeof e.dtype !== 'string' || !(e.dtype in BYTES))
        fail(`tensor '${name}' has dtype ${JSON.stringify(e.dtype)}; only ${Object.keys(BYTES).join(', ')} are read`);
      if (!Array.isArray(e.shape) || e.shape.length > 8 || !e.shape.every(isCount))
        fail(`tensor '${name}' has an invalid shape ${JSON.stringify(e.shape)}`);
      const offs = e.data_offsets;
      if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isCount) || offs[0] > offs[1])
        fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
      const shape = e.shape as number[];
      const dtype = e.dtype as SafeDtype;
      // Elements counted in BigInt: a declared [1e9, 1e9] must not wrap around or lose precision.
      const elems = shape.reduce((a, b) => a * BigInt(b), 1n);
      const [begin, end] = offs as number[];
      if (elems * BigInt(BYTES[dtype]) !== BigInt(end - begin)) {
        fail(
          `tensor '${name}' declares shape [${shape.join(', ')}] (${elems.toString()} × ${BYTES[dtype]} bytes) but ${end - begin} bytes of data`,
        );
      }
      if (end > dataLen)
        fail(`is truncated: tensor '${name}' ends at byte ${end} of the data but the file holds ${dataLen}`);
      entries.set(name, { name, dtype, shape, begin, end });
    }
    // The data section is exactly the tensors, back to back: no overlaps, no holes, nothing after.
    const sorted = [...entries.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
    let pos = 0;
    for (const e of sorted) {
      if (e.begin !== pos)
        fail(
          e.begin < pos
            ? `tensor '${e.name}' overlaps another one`
            : `has ${e.begin - pos} stray bytes before tensor '${e.name}'`,
        );
      pos = e.end;
    }
    if (pos !== dataLen) fail(`has ${dataLen - pos} bytes after its last tensor (oversized or not a safetensors file)`);
    return { file, entries, metadata, dataStart: 8 + headerLen, fileSize: st.size };
  } finally {
    fs.closeSync(fd);
  }
}

export interface ExpectedTensor {
  name: string;
  shape: number[];
  dtype?: SafeDtype;
}

/**
 * Checks that the header holds exactly `expected` (names, shapes, dtypes — nothing missing, nothing
 * extra unless `allowExtra`), before anything is read. The message names every mismatch.
 */
export function checkExpected(
  h: SafeHeader,
  expected: ExpectedTensor[],
  opts: { allowExtra?: boolean; label?: string } = {},
): void {
  const label = opts.label ?? h.file;
  const problems: string[] = [];
  for (const x of expected) {
    const e = h.entries.get(x.name);
    if (!e) problems.push(`'${x.name}' is missing`);
    else if (e.dtype !== (x.dtype ?? 'F32')) problems.push(`'${x.name}' is ${e.dtype}, expected ${x.dtype ?? 'F32'}`);
    else if (e.shape.join(',') !== x.shape.join(','))
      problems.push(`'${x.name}' has shape [${e.shape.join(', ')}], the config needs [${x.shape.join(', ')}]`);
  }
  if (!opts.allowExtra) {
    const names = new Set(expected.map((x) => x.name));
    const extra = [...h.entries.keys()].filter((n) => !names.has(n));
    if (extra.length)
      problems.push(
        `unexpected tensor${extra.length === 1 ? '' : 's'} ${extra
          .slice(0, 5)
          .map((n) => `'${n}'`)
          .join(', ')}${extra.length > 5 ? ` and ${extra.length - 5} more` : ''}`,
      );
  }
  if (problems.length) {
    throw new SafetensorsError(
      `${label} does not fit the model: ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? `; and ${problems.length - 8} more` : ''}`,
    );
  }
}

/** Reads one F32 tensor (already checked by readSafetensorsHeader) and refuses NaN or infinite values. */
export function readF32(h: SafeHeader, name: string, label = h.file): Float32Array {
  const e = h.entries.get(name);
  if (!e) throw new SafetensorsError(`${label}: tensor '${name}' is missing`);
  if (e.dtype !== 'F32') throw new SafetensorsError(`${label}: tensor '${name}' is ${e.dtype}, not F32`);
  const out = new Float32Array((e.end - e.begin) / 4);
  readInto(h, e, new Uint8Array(out.buffer));
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i]))
      throw new SafetensorsError(
        `${label}: tensor '${name}' holds ${Number.isNaN(out[i]) ? 'NaN' : 'an infinite value'} at element ${i}; a model with such weights cannot be used`,
      );
  }
  return out;
}

/** Reads a U8 / I32 / I64 tensor's raw bytes into a fresh typed array. */
export function readRaw(h: SafeHeader, name: string): { entry: SafeEntry; bytes: Uint8Array } {
  const e = h.entries.get(name);
  if (!e) throw new SafetensorsError(`${h.file}: tensor '${name}' is missing`);
  const bytes = new Uint8Array(e.end - e.begin);
  readInto(h, e, bytes);
  return { entry: e, bytes };
}

function readInto(h: SafeHeader, e: SafeEntry, dst: Uint8Array) {
  const fd = fs.openSync(h.file, 'r');
  try {
    let done = 0;
    while (done < dst.length) {
      const n = fs.readSync(fd, dst, done, Math.min(dst.length - done, 64 * 2 ** 20), h.dataStart + e.begin + done);
      if (n <= 0)
        throw new SafetensorsError(`${h.file}: tensor '${e.name}' is cut short (the file changed while it was read)`);
      done += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

export interface TensorToWrite {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  data: Float32Array | Uint8Array | Int32Array | BigInt64Array;
}

/**
 * Writes a safetensors file: header (padded with spaces to 8-byte alignment, as the reference
 * writer does), then each tensor's bytes straight from its array (no copy of large data).
 */
export function writeSafetensors(
  file: string,
  tensors: TensorToWrite[],
  metadata: Record<string, string> = {},
): number {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let off = 0;
  for (const t of tensors) {
    const bytes = t.data.byteLength;
    const elems = t.shape.reduce((a, b) => a * b, 1);
    if (elems * BYTES[t.dtype] !== bytes)
      throw new Error(`${t.name}: shape [${t.shape.join(', ')}] does not match ${bytes} bytes of ${t.dtype}`);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = JSON.stringify(header);
  const pad = (8 - ((8 + Buffer.byteLength(json)) % 8)) % 8;
  json += ' '.repeat(pad);
  const hb = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.length));
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, len);
    fs.writeSync(fd, hb);
    for (const t of tensors) {
      const view = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      let done = 0;
      while (done < view.length) done += fs.writeSync(fd, view, done, Math.min(view.length - done, 64 * 2 ** 20));
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return 8 + hb.length + off;
}
