// Writing models and optimizer state to disk (checkpoints); atomic folder writes come
// from atomic.ts.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { tf } from './tf';
import { fullModel, type Autoencoder } from './models';
export { writeDirAtomic, readableDir, writeJsonAtomic } from '../fs-safety/atomic';

/**
 * Saves encoder and decoder (TensorFlow.js layers format) into `dir/encoder` and `dir/decoder`, each
 * loadable on its own with `tf.loadLayersModel`; with `full`, also the whole autoencoder as
 * `dir/model.json` + weights (image → reconstruction).
 */
export async function saveAutoencoder(ae: Autoencoder, dir: string, opts: { full?: boolean } = {}): Promise<void> {
  await ae.encoder.save(`file://${path.join(dir, 'encoder')}`);
  await ae.decoder.save(`file://${path.join(dir, 'decoder')}`);
  if (opts.full) {
    // Composed from fresh copies of the halves just written: a nested model owns the models inside
    // it, so disposing the composition must not reach the live encoder and decoder.
    const full = fullModel(await loadAutoencoder(dir));
    try {
      await full.save(`file://${dir}`);
    } finally {
      full.dispose();
    }
  }
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

/** A checkpoint's `optimizer.json`: the name, shape and type of each optimizer weight, in the order of `optimizer.bin`. */
export const OptimizerSpecs = z.object({
  specs: z.array(
    z.object({
      name: z.string(),
      shape: z.array(z.number().int().min(0)),
      dtype: z.enum(['float32', 'int32', 'bool', 'complex64', 'string']),
    }),
  ),
});

/** Reads `optimizer.json` with its schema; a damaged one is refused in plain words. */
export function readOptimizerSpecs(dir: string): z.infer<typeof OptimizerSpecs>['specs'] {
  const parsed = OptimizerSpecs.safeParse(JSON.parse(fs.readFileSync(path.join(dir, 'optimizer.json'), 'utf8')));
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`The checkpoint's optimizer.json is damaged (${i.path.join('.') || 'the file'}: ${i.message}).`);
  }
  return parsed.data.specs;
}

export async function loadOptimizer(optimizer: tf.Optimizer, dir: string): Promise<void> {
  const specs = readOptimizerSpecs(dir);
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
