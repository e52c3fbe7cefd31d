// Sample quality in numbers for one trained run: Fréchet distance, precision and recall (k = 3) of
// its samples from each sampler, of its reconstructions, and of real held-out images (the floor —
// what real images of the same number score against the same reference), all against the same
// reference set of real training images, in one feature space (a classifier trained on the
// dataset, or a trained encoder's codes for unlabelled datasets: FeatureSpace).
//
// The split is the run's own (its seed, validation and test fractions, labels left out): the
// samplers are fitted to the codes of the images it trained on, the reference is `count` of those
// images, the floor and the reconstructions use `count` of the images it never trained on (or, for
// a run without a validation split, training images outside the reference).
import { splitIndices, toTensor, type Dataset } from '../data';
import { permutation } from '../rng';
import type { TrainedModel } from '../trained-model';
import { featureGaussian, frechetDistance } from './frechet';
import { precisionRecall } from './precision-recall';
import {
  describeSampler,
  drawCodes,
  fitSampler,
  SAMPLER_NAMES,
  SAMPLER_TITLES,
  type FitOptions,
  type Sampler,
  type SamplerName,
} from './samplers';

export interface FeatureSpace {
  kind: 'classifier' | 'encoder';
  /** What the features are, in words (shown beside the numbers). */
  description: string;
  dim: number;
  features(images: Float32Array | Uint8Array, n: number): Float32Array;
}

export interface GenerationScores {
  frechet: number;
  precision: number;
  recall: number;
}

export interface GenerationReport {
  features: { kind: FeatureSpace['kind']; description: string; dim: number };
  /** Images in each compared set. */
  count: number;
  /** Codes the samplers were fitted to. */
  fittedOn: number;
  k: number;
  floor: GenerationScores;
  reconstructions: GenerationScores;
  samplers: Array<
    | { name: SamplerName; title: string; description: string; scores: GenerationScores }
    | { name: SamplerName; title: string; skipped: string }
  >;
}

export interface MeasureOptions {
  /** Images per compared set (at most the held-out images available). */
  count?: number;
  seed?: number;
  samplers?: readonly SamplerName[];
  fit?: FitOptions;
  /** Fit the samplers to at most this many training codes. */
  maxFitCodes?: number;
  onStage?: (stage: string) => void;
  /** Each fitted sampler, e.g. to keep it. */
  onSampler?: (s: Sampler) => void;
  /** Rows of `ds` that are generated images (a mask over its rows): never used as real images. */
  generated?: Uint8Array;
  /** Samplers already fitted to this run's training codes (used as they are instead of fitting again). */
  fitted?: ReadonlyMap<string, Sampler>;
}

/**
 * The run's training rows (labels left out removed) and the rows it never trained on. Rows marked
 * in `generated` (images a model made, datasets/store.ts generatedMask) are left out of both: the
 * samplers are fitted to real images' codes and measured against real images only.
 */
export function runSplit(
  trained: TrainedModel,
  ds: Dataset,
  generated?: Uint8Array,
): { train: Int32Array; heldOut: Int32Array } {
  const c = trained.config;
  const split = splitIndices(ds.count, c.validationSplit, c.seed, c.testSplit ?? 0);
  const excluded = new Set(c.excludeLabels ?? []);
  const labels = ds.labels;
  const keep = (i: number) => !(labels && excluded.has(labels[i])) && !generated?.[i];
  return { train: split.train.filter(keep), heldOut: Int32Array.from([...split.val, ...split.test]).filter(keep) };
}

/** Codes (n × latentDim) of the dataset rows, a chunk at a time. */
export function codesOfRows(trained: TrainedModel, ds: Dataset, rows: ArrayLike<number>): Float32Array {
  const d = trained.config.latentDim;
  const out = new Float32Array(rows.length * d);
  for (let i = 0; i < rows.length; i += 512) {
    const part = Array.from({ length: Math.min(512, rows.length - i) }, (_, k) => rows[i + k]);
    const x = toTensor(ds, part);
    const px = x.dataSync() as Float32Array;
    x.dispose();
    out.set(trained.encode(px), i * d);
  }
  return out;
}

function pixelsOfRows(ds: Dataset, rows: ArrayLike<number>): Float32Array {
  const x = toTensor(ds, rows);
  const px = x.dataSync() as Float32Array;
  x.dispose();
  return px;
}

/** Decodes codes a chunk at a time into images (float in [0,1]). */
export function decodeCodes(trained: TrainedModel, codes: Float32Array): Float32Array {
  const d = trained.config.latentDim;
  const n = codes.length / d;
  const out = new Float32Array(n * trained.pixels);
  for (let i = 0; i < n; i += 256) {
    const m = Math.min(256, n - i);
    out.set(trained.decode(codes.subarray(i * d, (i + m) * d)), i * trained.pixels);
  }
  return out;
}

export async function measureGeneration(
  trained: TrainedModel,
  ds: Dataset,
  space: FeatureSpace,
  opts: MeasureOptions = {},
): Promise<GenerationReport> {
  const [h, w, c] = trained.config.inputShape;
  if (ds.shape[0] !== h || ds.shape[1] !== w || ds.shape[2] !== c)
    throw new Error(`This model takes ${h}×${w}×${c} images; the dataset has ${ds.shape.join('×')}.`);
  const seed = opts.seed ?? 1;
  const stage = opts.onStage ?? (() => undefined);
  const k = 3;
  const { train, heldOut } = runSplit(trained, ds, opts.generated);
  const trainOrder = Int32Array.from(permutation(train.length, seed), (i) => train[i]);
  let floorRows: Int32Array;
  let n: number;
  if (heldOut.length >= 2 * (k + 1)) {
    n = Math.min(opts.count ?? 1000, heldOut.length, trainOrder.length);
    floorRows = Int32Array.from(permutation(heldOut.length, seed + 1).subarray(0, n), (i) => heldOut[i]);
  } else {
    // no held-out images: the floor compares two disjoint halves of the training images
    n = Math.min(opts.count ?? 1000, Math.floor(trainOrder.length / 2));
    floorRows = trainOrder.slice(n, 2 * n);
  }
  if (n <= k)
    throw new Error(
      `Measuring samples needs more than ${k} images in each set; this run has ${train.length} training and ${heldOut.length} held-out images.`,
    );
  const refRows = trainOrder.subarray(0, n);

  stage('reference');
  const d = space.dim;
  const refFeatures = space.features(pixelsOfRows(ds, refRows), n);
  const ref = featureGaussian(refFeatures, n, d);
  const score = (f: Float32Array): GenerationScores => ({
    frechet: frechetDistance(ref, featureGaussian(f, n, d)),
    ...precisionRecall(refFeatures, n, f, n, d, k),
  });

  stage('floor');
  const floorPixels = pixelsOfRows(ds, floorRows);
  const floor = score(space.features(floorPixels, n));
  stage('reconstructions');
  const reconstructions = score(space.features(trained.reconstruct(floorPixels), n));

  const names = opts.samplers ?? SAMPLER_NAMES;
  const fitRows = trainOrder.subarray(0, Math.min(trainOrder.length, opts.maxFitCodes ?? 5000));
  let fitCodes: Float32Array | undefined;
  const codes = () => {
    if (!fitCodes) stage('codes');
    return (fitCodes ??= codesOfRows(trained, ds, fitRows));
  };
  const latent = trained.config.latentDim;
  const samplers: GenerationReport['samplers'] = [];
  for (const name of names) {
    if (name === 'prior' && !trained.vae) {
      samplers.push({
        name,
        title: SAMPLER_TITLES[name],
        skipped: 'not a VAE: its codes were never pulled towards N(0, I)',
      });
      continue;
    }
    stage(`sampler ${name}`);
    const s =
      opts.fitted?.get(name) ?? (await fitSampler(name, codes(), fitRows.length, latent, { seed, ...opts.fit }));
    opts.onSampler?.(s);
    const images = decodeCodes(trained, drawCodes(s, n, seed + 2));
    samplers.push({
      name,
      title: SAMPLER_TITLES[name],
      description: describeSampler(s),
      scores: score(space.features(images, n)),
    });
  }
  return {
    features: { kind: space.kind, description: space.description, dim: d },
    count: n,
    fittedOn: fitRows.length,
    k,
    floor,
    reconstructions,
    samplers,
  };
}
