// The Gallery's samplers side by side, inside the trainer process: each sampler fitted to the run's
// training codes (kept per run until the run's model is forgotten), `count` images from each, and
// the measurement of their quality (engine/generation measureGeneration), which is saved in the run
// folder as generation/report.json — the same file `ae-studio evaluate --generation` writes — and
// read back when the Gallery asks without measuring.
import { GallerySamplers } from '../contract';
import fs from 'node:fs';
import path from 'node:path';
import {
  decodeCodes,
  drawCodes,
  describeSampler,
  featureSpaceFor,
  fitSampler,
  codesOfRows,
  fitRunSampler,
  measureGeneration,
  readRememberedSampler,
  samplerRefusal,
  cropRunRefusal,
  saveRememberedSampler,
  MAX_FIT_CODES,
  runSplit,
  SAMPLER_NAMES,
  SAMPLER_TITLES,
  type Sampler,
} from '../engine/generation';
import { writeJsonAtomic } from '../engine/persist';
import { imagesToBase64 } from '../datasets/base64';
import { loadRunDataset } from './runs';
import { generatedMask, readDatasetManifest } from '../datasets/store';
import { forgotten, modelFor } from './gallery';
import type { MethodParams } from './protocol';
import type { ChosenSampler } from '../contract';

const fitted = new Map<string, Map<string, Sampler>>();
forgotten.push((runDir) => fitted.delete(runDir));

const toU8 = (f: Float32Array) => Uint8Array.from(f, (v) => Math.max(0, Math.min(255, Math.round(v * 255))));

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The rows of the run's stored dataset that a model generated (marked in its manifest): never taken for real images. */
function generatedRows(p: { dataset: MethodParams<'gallery'>['dataset']; workspaceDir: string }) {
  if (!('id' in p.dataset)) return undefined;
  const manifest = readDatasetManifest(p.workspaceDir, p.dataset.id);
  return manifest.generated?.length ? generatedMask(manifest) : undefined;
}

/** A run trained on random crops makes crops, not pictures like its dataset's: no samplers for it. */
function refuseCropRun(m: Parameters<typeof cropRunRefusal>[0], runId: string): void {
  const refusal = cropRunRefusal(m, runId);
  if (refusal) throw new Error(refusal);
}

/**
 * The Gallery's *Use for this run*: `p.sampler` fitted to the run's training codes (the fit the
 * samplers panel made and showed, when it is cached; it is the same fit) and saved as the run's
 * remembered sampler — exactly what `ae-studio generate --sampler NAME` saves.
 */
export async function chooseSampler(p: MethodParams<'chooseSampler'>): Promise<ChosenSampler> {
  const m = await modelFor(p.runDir);
  refuseCropRun(m, p.runId);
  const refusal = samplerRefusal(p.sampler, m, p.runId);
  if (refusal) throw new Error(refusal);
  const ds = loadRunDataset(p.dataset, p.workspaceDir);
  const { sampler, fittedOn } = await fitRunSampler(
    p.sampler,
    m,
    ds,
    generatedRows(p),
    fitted.get(p.runDir)?.get(p.sampler),
  );
  const saved = saveRememberedSampler(p.runDir, p.sampler, sampler, fittedOn);
  return { chosen: saved.name, description: saved.description, fittedOn: saved.fittedOn };
}

/** `count` images from the run's remembered sampler (the Gallery's generated samples), or undefined when it has none. */
export async function rememberedSamples(
  runDir: string,
  count: number,
  seed: number,
): Promise<Float32Array | undefined> {
  const r = readRememberedSampler(runDir);
  if (!r) return undefined;
  return decodeCodes(await modelFor(runDir), drawCodes(r.sampler, count, seed));
}

export async function samplersView(p: MethodParams<'gallery'>): Promise<GallerySamplers & { op: 'samplers' }> {
  const m = await modelFor(p.runDir);
  refuseCropRun(m, path.basename(p.runDir));
  const ds = loadRunDataset(p.dataset, p.workspaceDir);
  const shape = m.config.inputShape;
  const per = shape[0] * shape[1] * shape[2];
  const count = p.params.count ?? 8;
  const seed = p.params.seed ?? 1;
  let mine = fitted.get(p.runDir);
  if (!mine) fitted.set(p.runDir, (mine = new Map()));
  let codes: Float32Array | undefined;
  // images a model generated into the dataset (marked in its manifest) are never taken for real ones
  const generated = generatedRows(p);
  const rows = runSplit(m, ds, generated).train.subarray(0, MAX_FIT_CODES);
  const samplers = [];
  for (const name of SAMPLER_NAMES) {
    if (name === 'prior' && !m.vae) {
      samplers.push({
        name,
        title: SAMPLER_TITLES[name],
        skipped: 'not a VAE: its codes were never pulled towards N(0, I)',
      });
      continue;
    }
    let s = mine.get(name);
    if (!s) {
      codes ??= codesOfRows(m, ds, rows);
      s = await fitSampler(name, codes, rows.length, m.config.latentDim, { seed: 1 });
      mine.set(name, s);
    }
    const images = decodeCodes(m, drawCodes(s, count, seed));
    samplers.push({
      name,
      title: SAMPLER_TITLES[name],
      description: describeSampler(s),
      images: imagesToBase64(toU8(images), per),
    });
  }
  const reportFile = path.join(p.runDir, 'generation', 'report.json');
  if (p.params.measure) {
    const key = 'builtin' in p.dataset ? p.dataset.builtin : p.dataset.id;
    const full = loadRunDataset(
      'builtin' in p.dataset ? { ...p.dataset, count: 10_000 } : { id: p.dataset.id },
      p.workspaceDir,
    );
    const space = await featureSpaceFor(p.workspaceDir, key, full, m, p.runDir, undefined, generated);
    try {
      const report = await measureGeneration(m, ds, space.space, { seed: 1, fitted: mine, generated });
      fs.mkdirSync(path.dirname(reportFile), { recursive: true });
      writeJsonAtomic(reportFile, {
        run: path.basename(p.runDir),
        dataset: key,
        seed: 1,
        measuredAt: new Date().toISOString(),
        featuresNote: space.note,
        ...report,
      });
    } finally {
      space.dispose();
    }
  }
  const chosen = readRememberedSampler(p.runDir)?.name;
  // the last measurement, parsed with its schema (a damaged or older report is shown as not measured)
  const report = GallerySamplers.shape.measured.safeParse(readJson(reportFile) ?? null);
  const measured = report.success ? report.data : null;
  return { op: 'samplers', shape, chosen: chosen ?? null, samplers, measured };
}
