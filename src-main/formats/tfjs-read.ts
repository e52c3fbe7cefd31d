// Reading a TensorFlow.js export as hostile input, before tfjs sees any of it:
// model.json and studio.json are size-capped; every weight file the manifest names must be a plain
// path to a regular file inside the folder (no '..', no absolute path, no link out); every declared
// weight must be float32 and be exactly one of the weights the config's model has, with its shape
// (a declared 10⁹-unit layer is refused here, unread); each group's files together must hold
// exactly the declared bytes (truncated and oversized files refused); and NaN or infinite values
// are refused. The model is then BUILT from the validated config (models.ts), never from
// model.json's topology, so nothing the file declares is allocated.
import fs from 'node:fs';
import type { ModelConfig } from '../engine/config';
import { planWeights, type JobPlan } from '../engine/layer-plan';
import { fileInside, isPlainRelativePath, readJsonCapped } from '../fs-safety/safe-read';
import { ImportError } from './errors';

const MiB = 2 ** 20;
const fail = (message: string) => new ImportError(message);

/** model.json of an export, size-capped. */
export function readModelJson(dir: string): Record<string, unknown> {
  const raw = readJsonCapped(fileInside(dir, 'model.json', 'model.json', fail), 32 * MiB, `model.json in ${dir}`, fail);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw fail(`model.json in ${dir} is not a JSON object.`);
  return raw as Record<string, unknown>;
}

type TopoLayer = {
  name?: unknown;
  class_name?: unknown;
  config?: { layers?: TopoLayer[]; units?: unknown; filters?: unknown; kernel_size?: unknown };
};

const nested = (modelJson: Record<string, unknown>, name: string): TopoLayer | undefined => {
  const layers = (modelJson.modelTopology as TopoLayer | undefined)?.config?.layers;
  return Array.isArray(layers)
    ? layers.find((l) => l && l.name === name && (l.class_name === 'Model' || l.class_name === 'Functional'))
    : undefined;
};

/** True when model.json's topology holds a nested model named `name` (the studio's full export keeps encoder and decoder nested). */
export function hasNestedModel(modelJson: Record<string, unknown>, name: string): boolean {
  return !!nested(modelJson, name);
}

/**
 * The layers with weights that model.json's encoder and decoder declare must be the config's
 * (same names, units / filters, kernel sizes). The topology is never built (the model comes from
 * the config), but one that disagrees — e.g. a Dense layer of 10⁹ units — is not a studio export.
 */
export function checkTopology(dir: string, modelJson: Record<string, unknown>, plan: JobPlan): void {
  const want = new Map(
    planWeights(plan)
      .filter((w) => w.role === 'kernel')
      .map((w) => [w.layer.name, w.layer]),
  );
  const problems: string[] = [];
  for (const half of ['encoder', 'decoder']) {
    const layers = nested(modelJson, half)?.config?.layers;
    if (!Array.isArray(layers) || layers.length > 1000) {
      problems.push(`the ${half} has no layer list`);
      continue;
    }
    for (const l of layers) {
      const cls = l?.class_name;
      if (cls !== 'Dense' && cls !== 'Conv2D' && cls !== 'Conv2DTranspose') continue;
      const name = String(l.name);
      const p = want.get(name);
      const size = cls === 'Dense' ? l.config?.units : l.config?.filters;
      if (!p) problems.push(`${half} layer ${name} (${String(cls)}) is not in this model`);
      else if (size !== p.out)
        problems.push(
          `${half} layer ${name} declares ${JSON.stringify(size)} ${cls === 'Dense' ? 'units' : 'filters'}, the config builds ${p.out}`,
        );
      else if (p.op !== 'dense' && JSON.stringify(l.config?.kernel_size) !== JSON.stringify([p.kernel, p.kernel]))
        problems.push(
          `${half} layer ${name} declares kernel ${JSON.stringify(l.config?.kernel_size)}, the config builds ${p.kernel}×${p.kernel}`,
        );
    }
  }
  if (problems.length)
    throw fail(
      `model.json in ${dir} does not describe the model of studio.json's configuration: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}.`,
    );
}

/** The latent statistics of studio.json, checked: one finite mean and std per code dimension. */
export function checkLatentStats(stats: unknown, config: ModelConfig): { mean: number[]; std: number[] } {
  const s = stats as { mean?: unknown; std?: unknown } | undefined;
  const ok = (a: unknown): a is number[] =>
    Array.isArray(a) && a.length === config.latentDim && a.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (!s || !ok(s.mean) || !ok(s.std))
    throw fail(
      `studio.json's latent statistics do not fit a ${config.latentDim}-d code (or hold values that are not finite numbers).`,
    );
  return { mean: s.mean, std: s.std };
}

/**
 * The export's weights by tfjs name (`enc_conv1/kernel`, …), checked against the plan of its config
 * before anything is read.
 */
export function readTfjsWeights(
  dir: string,
  modelJson: Record<string, unknown>,
  plan: JobPlan,
): Map<string, Float32Array> {
  const manifest = modelJson.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length > 10_000)
    throw fail(`model.json in ${dir} has no usable weightsManifest.`);
  const expected = new Map(planWeights(plan).map((w) => [w.tfName, w.tfShape]));
  const seen = new Set<string>();
  const groups: Array<{
    files: Array<{ real: string; size: number }>;
    weights: Array<{ name: string; elems: number }>;
    bytes: number;
  }> = [];
  const problems: string[] = [];
  for (const g of manifest as Array<{ paths?: unknown; weights?: unknown }>) {
    if (!g || !Array.isArray(g.paths) || !Array.isArray(g.weights) || g.paths.length > 10_000)
      throw fail(`model.json in ${dir}: a weightsManifest group has no paths / weights lists.`);
    const files = g.paths.map((p) => {
      if (!isPlainRelativePath(p))
        throw fail(
          `model.json in ${dir} names the weight file ${JSON.stringify(p)}, which leaves the export's folder; refused.`,
        );
      const real = fileInside(dir, p, `the weight file ${p}`, fail);
      return { real, size: fs.statSync(real).size };
    });
    const weights: Array<{ name: string; elems: number }> = [];
    let declared = 0n;
    for (const w of g.weights as Array<{ name?: unknown; shape?: unknown; dtype?: unknown; quantization?: unknown }>) {
      const name = typeof w?.name === 'string' ? w.name : JSON.stringify(w?.name);
      if (!Array.isArray(w?.shape) || w.shape.length > 8 || !w.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
        throw fail(`model.json in ${dir}: weight ${name} has an invalid shape ${JSON.stringify(w?.shape)}.`);
      if (w.dtype !== 'float32' || w.quantization !== undefined)
        throw fail(
          `model.json in ${dir}: weight ${name} is ${String(w.dtype)}${w.quantization ? ' (quantized)' : ''}; the studio's exports hold float32 weights only.`,
        );
      const shape = w.shape as number[];
      const elems = shape.reduce((a, b) => a * BigInt(b), 1n);
      declared += elems * 4n;
      const want = expected.get(name);
      if (!want) problems.push(`${name} is not a weight of this ${plan.vae ? 'variational ' : ''}model`);
      else if (want.join(',') !== shape.join(','))
        problems.push(`${name} has shape [${shape.join(', ')}], the config needs [${want.join(', ')}]`);
      else if (seen.has(name)) problems.push(`${name} is listed twice`);
      seen.add(name);
      weights.push({ name, elems: Number(elems) });
    }
    const actual = files.reduce((a, f) => a + f.size, 0);
    if (problems.length === 0 && BigInt(actual) !== declared) {
      throw fail(
        actual < declared
          ? `The weight files ${g.paths.join(', ')} are truncated: ${actual.toLocaleString('en-US')} bytes for ${declared.toLocaleString('en-US')} declared.`
          : `The weight files ${g.paths.join(', ')} are oversized: ${actual.toLocaleString('en-US')} bytes for ${declared.toLocaleString('en-US')} declared.`,
      );
    }
    groups.push({ files, weights, bytes: actual });
  }
  for (const name of expected.keys()) if (!seen.has(name)) problems.push(`${name} is missing`);
  if (problems.length)
    throw fail(
      `The weights in model.json do not fit the model of studio.json's configuration: ${problems.slice(0, 6).join('; ')}${problems.length > 6 ? `; and ${problems.length - 6} more` : ''}.`,
    );

  // Everything declared is what the config needs and the files hold exactly that: read them.
  const out = new Map<string, Float32Array>();
  for (const g of groups) {
    const buf = new Uint8Array(g.bytes);
    let off = 0;
    for (const f of g.files) {
      const fd = fs.openSync(f.real, 'r');
      try {
        let done = 0;
        while (done < f.size) {
          const n = fs.readSync(fd, buf, off + done, f.size - done, done);
          if (n <= 0) throw fail(`The weight file ${f.real} changed while it was read.`);
          done += n;
        }
      } finally {
        fs.closeSync(fd);
      }
      off += f.size;
    }
    let pos = 0;
    for (const w of g.weights) {
      const values = new Float32Array(buf.buffer, pos, w.elems);
      pos += w.elems * 4;
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i]))
          throw fail(
            `Weight ${w.name} holds ${Number.isNaN(values[i]) ? 'NaN' : 'an infinite value'} at element ${i}; a model with such weights cannot be used.`,
          );
      }
      out.set(w.name, values);
    }
  }
  return out;
}
