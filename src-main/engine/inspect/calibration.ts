// The inspection settings a run keeps in model/inspection.json: how its maps and score are made,
// the per-pixel normalisation measured on good validation pictures, the threshold (F1-adaptive where
// labelled defects were measured, else a percentile of the good validation scores) and what was
// measured. The file names its run and a fingerprint of the model's weights: a file copied from
// another run (or left over from before the model was retrained) is refused, not used.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from '../../fs-safety/atomic';
import type { Images, TrainedModel } from '../trained-model';
import { fitNormStats, inspectImages, type InspectResult } from './inspect';
import { inspectTiled } from './tiles';
import { MAP_KINDS, SCORE_KINDS, type MapSettings, type NormStats, type ScoreKind } from './maps';
import { inspectionMetrics, type InspectionMetrics } from './metrics';

export const INSPECTION_FILE = 'inspection.json';

export interface InspectionSettings extends MapSettings {
  /** The image score the verdict uses. */
  score: ScoreKind;
}

/**
 * The studio's default for a new inspection run: squared-error maps, smoothed with σ = 2 px,
 * normalised, scored by the mean of the top 1 %.
 */
// The default follows `npm run bench:inspect` (docs/inspection.md): the squared-error map, smoothed
// and normalised, scored by its top 1 %, was the best image and pixel ROC AUC on average over the
// three textures; the 1 − SSIM map was as good on two and much worse on the grainy one.
export const DEFAULT_INSPECTION: InspectionSettings = { map: 'l2', smoothSigma: 2, topkPercent: 1, score: 'topk' };

export interface Threshold {
  value: number;
  /** `manual`: chosen by the user on the Inspect panel's histogram. */
  method: 'f1' | 'percentile' | 'manual';
  /** The percentile of the good validation scores (method `percentile`). */
  percentile?: number;
  /** F1 at the threshold on the labelled pictures (method `f1`). */
  f1?: number;
  /** For a `manual` threshold: the one calibration measured. */
  measured?: { value: number; method: 'f1' | 'percentile' };
}

export interface InspectionFile {
  format: 'ae-studio-inspection';
  version: 1;
  run: string;
  /** sha256 of the model's weight files (encoder/ and decoder/). */
  model: string;
  settings: InspectionSettings;
  norm: { h: number; w: number; mean: number[]; std: number[] } | null;
  threshold: Threshold;
  /** Good validation pictures the normalisation and percentile came from. */
  goodValidation: number;
  /** Measured on labelled pictures the model never trained on (absent without them). */
  measured?: { dataset: string } & Omit<InspectionMetrics, 'perType'> & { perType: InspectionMetrics['perType'] };
  createdAt: string;
}

/** sha256 over the model's weight files (model/encoder and model/decoder, sorted by name). */
export function modelFingerprint(modelDir: string): string {
  const h = crypto.createHash('sha256');
  for (const part of ['encoder', 'decoder']) {
    const dir = path.join(modelDir, part);
    for (const f of fs.readdirSync(dir).sort()) {
      h.update(`${part}/${f}\0`);
      h.update(fs.readFileSync(path.join(dir, f)));
    }
  }
  return h.digest('hex');
}

/** The value at `p` % of `values` (linear between order statistics, as numpy's default). */
export function percentile(values: ArrayLike<number>, p: number): number {
  const s = Float64Array.from(values).sort();
  if (!s.length) return NaN;
  const at = ((s.length - 1) * Math.min(100, Math.max(0, p))) / 100;
  const lo = Math.floor(at);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (at - lo);
}

export interface Labelled {
  name: string;
  images: Images;
  labels: ArrayLike<number>;
  goodLabel: number;
  labelNames?: string[];
  masks?: Uint8Array;
}

/**
 * A model trained on random crops (config `cropSize`) scores whole pictures by tiles: its good
 * validation pictures and its labelled pictures are whole pictures of `h` × `w`, scored as
 * `inspectTiled` scores them (`overlap`), while the normalisation is measured on `good`'s crops.
 */
export interface WholePictures {
  good: Images;
  h: number;
  w: number;
  overlap: number;
}

/** The overlap of the tiles a crop run is calibrated with, and that `ae-studio inspect` uses by default. */
export const CALIBRATION_OVERLAP = 0.5;

/** Whole pictures of h × w scored by tiles, as inspectImages scores pictures of the model's size. */
export function inspectWhole(
  model: TrainedModel,
  images: Images,
  whole: Omit<WholePictures, 'good'>,
  settings: InspectionSettings,
  norm: NormStats | undefined,
  keepMaps: boolean,
): InspectResult {
  const c = model.config.inputShape[2];
  const { h, w } = whole;
  const per = h * w * c;
  const n = images.length / per;
  const maps = new Float32Array(keepMaps ? n * h * w : 0);
  const scores = { mean: new Float64Array(n), max: new Float64Array(n), topk: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const r = inspectTiled(model, images.subarray(i * per, (i + 1) * per), h, w, settings, norm, whole.overlap);
    if (keepMaps) maps.set(r.map, i * h * w);
    for (const k of SCORE_KINDS) scores[k][i] = r.scores[k];
  }
  return { count: n, h, w, maps, scores };
}

/**
 * Measures the inspection settings for a model: normalisation from `good` (good validation
 * pictures), then the threshold — F1-adaptive on `labelled` when it holds both good and defective
 * pictures, else the `percentile` of the good validation scores. With `whole` (a crop run) the
 * scores are those of whole pictures scored by tiles; the normalisation is still `good`'s.
 */
export function calibrate(
  model: TrainedModel,
  runId: string,
  modelDir: string,
  good: Images,
  settings: InspectionSettings = DEFAULT_INSPECTION,
  labelled?: Labelled,
  pct = 99,
  whole?: WholePictures,
): InspectionFile {
  if (!MAP_KINDS.includes(settings.map) || !SCORE_KINDS.includes(settings.score))
    throw new Error(`Unknown map '${settings.map}' or score '${settings.score}'.`);
  const norm = fitNormStats(model, good, settings);
  const score = (images: Images, keepMaps: boolean) =>
    whole
      ? inspectWhole(model, images, whole, settings, norm, keepMaps)
      : inspectImages(model, images, settings, norm, { keepMaps });
  const goodRes = score(whole ? whole.good : good, false);
  let threshold: Threshold = {
    value: percentile(goodRes.scores[settings.score], pct),
    method: 'percentile',
    percentile: pct,
  };
  let measured: InspectionFile['measured'];
  if (labelled) {
    const res = score(labelled.images, !!labelled.masks);
    const m = inspectionMetrics({
      scores: res.scores[settings.score],
      labels: labelled.labels,
      goodLabel: labelled.goodLabel,
      labelNames: labelled.labelNames,
      ...(labelled.masks ? { maps: res.maps, masks: labelled.masks, h: res.h, w: res.w } : {}),
    });
    if (m.good > 0 && m.defective > 0) {
      measured = { dataset: labelled.name, ...m };
      threshold = { value: m.f1Threshold, method: 'f1', f1: m.f1Max };
    }
  }
  return {
    format: 'ae-studio-inspection',
    version: 1,
    run: runId,
    model: modelFingerprint(modelDir),
    settings: { ...settings },
    norm: { h: norm.h, w: norm.w, mean: Array.from(norm.mean), std: Array.from(norm.std) },
    threshold,
    goodValidation: goodRes.count,
    ...(measured ? { measured } : {}),
    createdAt: new Date().toISOString(),
  };
}

/** Writes model/inspection.json (atomically). */
export function saveInspection(modelDir: string, file: InspectionFile): void {
  writeJsonAtomic(path.join(modelDir, INSPECTION_FILE), file);
}

/**
 * Reads model/inspection.json of run `runId`; undefined when there is none. Refuses, in plain
 * words, a file that is not one, one made for another run, or one made for other weights.
 */
export function loadInspection(
  modelDir: string,
  runId: string,
): (InspectionFile & { normStats?: NormStats }) | undefined {
  const file = path.join(modelDir, INSPECTION_FILE);
  if (!fs.existsSync(file)) return undefined;
  let f: InspectionFile;
  try {
    f = JSON.parse(fs.readFileSync(file, 'utf8')) as InspectionFile;
  } catch (err) {
    throw new Error(
      `${file} is not valid JSON (${(err as Error).message}); calibrate again with: ae-studio inspect --calibrate …`,
    );
  }
  if (f?.format !== 'ae-studio-inspection' || f.version !== 1 || typeof f.threshold?.value !== 'number' || !f.settings)
    throw new Error(`${file} is not an inspection file of this studio.`);
  if (f.run !== runId)
    throw new Error(
      `${file} belongs to run '${f.run}', not to '${runId}': a threshold from another run does not fit this model. Calibrate this run again with: ae-studio inspect --calibrate …`,
    );
  if (f.model !== modelFingerprint(modelDir))
    throw new Error(
      `${file} was measured on other weights than this run's model (was the model replaced?). Calibrate again with: ae-studio inspect --calibrate …`,
    );
  const normStats = f.norm
    ? { h: f.norm.h, w: f.norm.w, mean: Float32Array.from(f.norm.mean), std: Float32Array.from(f.norm.std) }
    : undefined;
  if (
    normStats &&
    (normStats.mean.length !== normStats.h * normStats.w || normStats.std.length !== normStats.h * normStats.w)
  )
    throw new Error(`${file}: the normalisation does not match its own size.`);
  return { ...f, normStats };
}

/**
 * Saves a threshold the user chose (the Inspect panel's histogram) into run `runId`'s
 * model/inspection.json, keeping what calibration measured. Refuses, writing nothing, when the run
 * has no calibration or its file belongs to another run or other weights (loadInspection's checks).
 */
export function setThreshold(modelDir: string, runId: string, value: number): Threshold {
  if (!Number.isFinite(value)) throw new Error(`A threshold is a finite number; got ${value}.`);
  const f = loadInspection(modelDir, runId);
  if (!f)
    throw new Error(
      `Run '${runId}' has not been calibrated for inspection yet: calibrate it first, then move its threshold.`,
    );
  const { normStats: _ignored, ...file } = f;
  const was =
    f.threshold.method === 'manual' ? f.threshold.measured : { value: f.threshold.value, method: f.threshold.method };
  const threshold: Threshold = { value, method: 'manual', ...(was ? { measured: was } : {}) };
  saveInspection(modelDir, { ...file, threshold });
  return threshold;
}
