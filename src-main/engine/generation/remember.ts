// The sampler a run remembers (runs/<id>/generation/sampler.json; docs/generation.md): the fitted
// density itself, so that later draws — `ae-studio generate` without `--sampler`, the Gallery's
// generated samples, TF.js decoder exports — come from that same density. Chosen with
// `ae-studio generate --sampler NAME` or the Gallery's *Use for this run*; both fit it the same way
// (seed 1, the codes of at most 5,000 of the run's real training images) and save it here.
import fs from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from '../persist';
import type { Dataset } from '../data';
import type { TrainedModel } from '../trained-model';
import { SAMPLER_TITLES, describeSampler, fitSampler, isSamplerName, type Sampler, type SamplerName } from './samplers';
import { codesOfRows, runSplit } from './measure';

export interface RememberedSampler {
  name: SamplerName;
  title: string;
  /** How many training codes it was fitted to (0 for the prior). */
  fittedOn: number;
  savedAt: string;
  sampler: Sampler;
}

/** Most training codes a sampler is fitted to. */
export const MAX_FIT_CODES = 5000;

export const samplerFile = (runDir: string) => path.join(runDir, 'generation', 'sampler.json');

/** The run's remembered sampler, if it has one that can be read. */
export function readRememberedSampler(runDir: string): RememberedSampler | undefined {
  try {
    const j = JSON.parse(fs.readFileSync(samplerFile(runDir), 'utf8')) as Partial<RememberedSampler>;
    if (typeof j.name !== 'string' || !isSamplerName(j.name) || !j.sampler || typeof j.sampler !== 'object')
      return undefined;
    return j as RememberedSampler;
  } catch {
    return undefined;
  }
}

/** Why `name` cannot be a run's sampler (the prior of a plain autoencoder), or undefined. */
export function samplerRefusal(name: SamplerName, m: TrainedModel, runId: string): string | undefined {
  return name === 'prior' && !m.vae
    ? `Run '${runId}' is not a VAE, so its codes have no N(0, I) prior to sample from; choose another sampler (diagonal, full, gmm, two-stage).`
    : undefined;
}

/**
 * Why a run cannot generate at all, or undefined: one trained on random crops would make crops, not
 * pictures like its dataset's (measuring, samplers and `generate` all refuse it).
 */
export function cropRunRefusal(m: TrainedModel, runId: string): string | undefined {
  const crop = m.config.cropSize;
  return crop
    ? `Run '${runId}' trained on random ${crop}-px crops of bigger pictures: what it generates would be crops, not pictures like its dataset's, so it is not measured or sampled.`
    : undefined;
}

/**
 * Fits `name` to the codes of the run's real training images (the first MAX_FIT_CODES of its own
 * split; rows marked `generated` left out), seed 1 — or takes `prefitted`, an identical fit made
 * earlier. Does not save it (see `saveRememberedSampler`).
 */
export async function fitRunSampler(
  name: SamplerName,
  m: TrainedModel,
  ds: Dataset,
  generated?: Uint8Array,
  prefitted?: Sampler,
): Promise<{ sampler: Sampler; fittedOn: number }> {
  const rows = runSplit(m, ds, generated).train.subarray(0, MAX_FIT_CODES);
  const fittedOn = name === 'prior' ? 0 : rows.length;
  if (prefitted) return { sampler: prefitted, fittedOn };
  const codes = name === 'prior' ? new Float32Array(0) : codesOfRows(m, ds, rows);
  return { sampler: await fitSampler(name, codes, rows.length, m.config.latentDim, { seed: 1 }), fittedOn };
}

/** Saves a fitted sampler as the run's remembered one (written atomically). */
export function saveRememberedSampler(
  runDir: string,
  name: SamplerName,
  sampler: Sampler,
  fittedOn: number,
): RememberedSampler & { description: string } {
  const saved: RememberedSampler = {
    name,
    title: SAMPLER_TITLES[name],
    fittedOn,
    savedAt: new Date().toISOString(),
    sampler,
  };
  fs.mkdirSync(path.dirname(samplerFile(runDir)), { recursive: true });
  writeJsonAtomic(samplerFile(runDir), saved);
  return { ...saved, description: describeSampler(sampler) };
}
