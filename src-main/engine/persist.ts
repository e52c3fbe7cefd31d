// Writing models, optimizer state and run state to disk, atomically: everything goes into a
// temporary folder beside the target, which then replaces the target by rename. A crash leaves
// either the old folder or the new one, never half of one (issue #3, checkpoints).
import fs from 'node:fs';
import path from 'node:path';
import { tf } from './tf';
import type { Autoencoder } from './models';

/** Replaces `dir` with what `fill(tmp)` writes into a fresh temporary folder. */
export async function writeDirAtomic(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  const old = `${dir}.old`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    await fill(tmp);
    fsyncTree(tmp);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  fs.rmSync(old, { recursive: true, force: true });
}

/** The folder to read: `dir`, or the previous good one if a crash fell between the two renames. */
export function readableDir(dir: string): string | undefined {
  if (fs.existsSync(dir)) return dir;
  if (fs.existsSync(`${dir}.old`)) return `${dir}.old`;
  return undefined;
}

function fsyncTree(dir: string) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) fsyncTree(p);
    else {
      const fd = fs.openSync(p, 'r');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    }
  }
}

/** Writes JSON to a file atomically (temp file + rename). */
export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2));
  const fd = fs.openSync(tmp, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}

/** Saves encoder and decoder (TensorFlow.js layers format) into `dir/encoder` and `dir/decoder`. */
export async function saveAutoencoder(ae: Autoencoder, dir: string): Promise<void> {
  await ae.encoder.save(`file://${path.join(dir, 'encoder')}`);
  await ae.decoder.save(`file://${path.join(dir, 'decoder')}`);
}

export async function loadAutoencoder(dir: string): Promise<Autoencoder> {
  const encoder = await tf.loadLayersModel(`file://${path.join(dir, 'encoder', 'model.json')}`);
  const decoder = await tf.loadLayersModel(`file://${path.join(dir, 'decoder', 'model.json')}`);
  return { encoder, decoder };
}

/** Optimizer state: shapes/dtypes in JSON, values as one float32 binary, in the optimizer's order. */
export async function saveOptimizer(optimizer: tf.Optimizer, dir: string): Promise<void> {
  const weights = await optimizer.getWeights();
  const specs = weights.map((w) => ({ name: w.name, shape: w.tensor.shape, dtype: w.tensor.dtype }));
  const arrays = await Promise.all(weights.map((w) => w.tensor.data()));
  const total = arrays.reduce((s, a) => s + a.length, 0);
  const buf = new Float32Array(total);
  let off = 0;
  for (const a of arrays) {
    buf.set(a as Float32Array, off);
    off += a.length;
  }
  fs.writeFileSync(path.join(dir, 'optimizer.json'), JSON.stringify({ specs }));
  fs.writeFileSync(path.join(dir, 'optimizer.bin'), Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
  for (const w of weights) if (w.name === 'iter') w.tensor.dispose(); // getWeights creates a fresh 'iter' scalar
}

export async function loadOptimizer(optimizer: tf.Optimizer, dir: string): Promise<void> {
  const { specs } = JSON.parse(fs.readFileSync(path.join(dir, 'optimizer.json'), 'utf8')) as {
    specs: Array<{ name: string; shape: number[]; dtype: tf.DataType }>;
  };
  if (specs.length === 0) return;
  const bin = fs.readFileSync(path.join(dir, 'optimizer.bin'));
  const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  let off = 0;
  const weights = specs.map((s) => {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const values = all.subarray(off, off + size);
    off += size;
    return { name: s.name, tensor: tf.tensor(values, s.shape, s.dtype) };
  });
  await optimizer.setWeights(weights);
  // setWeights copies into new variables: drop our input tensors.
  for (const w of weights) w.tensor.dispose();
}
