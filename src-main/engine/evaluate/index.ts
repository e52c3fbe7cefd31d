// What a trained autoencoder is good for, measured on a labelled dataset (all of it in the trainer
// process or the CLI, never in the UI):
//  - reconstruction: MSE, PSNR, SSIM on the held-out images, and per label;
//  - features: a linear probe and kNN on the codes, on the raw pixels and on PCA with as many
//    dimensions as the code — fitted on the training split, scored on the held-out split;
//  - anomalies: every image's reconstruction error (worst first), a histogram per label and, for
//    labels marked anomalous, the ROC curve and its AUC.
// The split is the run's own (its seed, validation and test fractions), so "held out" means the
// images the model never trained on; images of labels the run left out (`excludeLabels`) were never
// trained on either and are scored with the held-out ones.
import { tf } from '../tf';
import { encodeMean, type Autoencoder } from '../models';
import { BatchSource, evalBatchSize, RowGather, splitIndices, toTensor, type TrainingData } from '../data';
import { InferenceGraph } from '../fast/infer';
import { psnrFromMse } from '../metrics';
import { imageMetrics } from '../metrics';
import type { ModelConfig } from '../config';
import type { AnomalyRoc, EvaluationMeasures, ImageQuality } from '../../contract/evaluate';
import { fitPca, projectPca } from './pca';
import { knnProbe, linearProbe, type ProbeData } from './probes';
import { histogram, rocCurve, type RocPoint } from './roc';

export { fitPca, projectPca, type Pca } from './pca';
export { linearProbe, knnProbe, score, type ProbeScore, type ProbeData } from './probes';
export { rocCurve, histogram, type Roc, type RocPoint } from './roc';
export { symEig } from './linalg';

export interface EvaluateOptions {
  /** Labels whose images count as anomalies for the ROC curve. */
  anomalous?: number[];
  /** At most this many training rows for the probes (a seeded subset), to bound the time on big datasets (default 6,000, fewer for big pictures: PROBE_PIXEL_VALUES). */
  probeTrainMax?: number;
  /** At most this many held-out rows for the probes (default 2,000, fewer for big pictures). */
  probeTestMax?: number;
  /** Neighbours for kNN. */
  k?: number;
  /** Histogram bins. */
  bins?: number;
  /** Called between stages ("codes", "probes"…), for progress. */
  onStage?: (stage: string) => void;
}

/**
 * What evaluateModel measures: the contract's EvaluationMeasures (src-main/contract/evaluate.ts,
 * written once there; a probe's per-class accuracy is NaN where a label has no held-out row), every
 * scored image worst first, and with anomalous labels the ROC curve (its first threshold Infinity).
 */
export type ModelEvaluation = EvaluationMeasures & {
  /** Every scored image, worst reconstruction first: dataset index, label (−1 without labels), MSE. */
  scores: Array<{ index: number; label: number; mse: number }>;
  anomaly?: Omit<AnomalyRoc, 'roc'> & { roc: RocPoint[] };
};

/** Codes (posterior means) of the dataset's `indices`, [n, latentDim]: on the inference graph when there is one. Caller disposes. */
function codesOf(
  ae: Autoencoder,
  ds: TrainingData,
  indices: Int32Array,
  graph: InferenceGraph | undefined,
): tf.Tensor2D {
  if (graph) {
    const d = ae.encoder.outputs[0].shape[1] as number;
    const codes = new Float32Array(indices.length * d);
    const rows = new RowGather(ds, indices);
    for (let i = 0; i < indices.length; i += graph.chunk) {
      const n = Math.min(graph.chunk, indices.length - i);
      codes.set(graph.run(rows.slice(i, n), { code: true }).code!, i * d);
    }
    return tf.tensor2d(codes, [indices.length, d]);
  }
  const parts: tf.Tensor[] = [];
  const images = new BatchSource(ds, indices, 512);
  for (let i = 0; i < indices.length; i += 512) {
    const x = images.slice(i, Math.min(512, indices.length - i));
    parts.push(encodeMean(ae, x));
    x.dispose();
  }
  const out = tf.concat(parts, 0) as tf.Tensor2D;
  tf.dispose(parts);
  return out;
}

const pixelsOf = (ds: TrainingData, indices: Int32Array) =>
  tf.tidy(() => toTensor(ds, indices).reshape([indices.length, -1]) as tf.Tensor2D);

/**
 * Pixel values the probes' training rows hold at most by default (64 MB as float32): 6,000 MNIST
 * digits fit (4.7 M values); 64×64 RGB pictures get 1,365 rows, 128×128 RGB ones 341 — so evaluating
 * big pictures stays within the memory training needs, and its probes within seconds to a minute.
 */
export const PROBE_PIXEL_VALUES = 1 << 24;

/** Thins a curve to at most `max` points, keeping the first and the last. */
function thin<T>(a: T[], max: number): T[] {
  if (a.length <= max) return a;
  const step = (a.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => a[Math.round(i * step)]);
}

/**
 * Evaluates a trained model on a dataset held in memory or streamed from its file (a RowReader: rows
 * are read a chunk at a time, never all at once). Reconstruction errors and codes run on the
 * inference graph (fast/infer.ts) when the model has one, else on tfjs's layers.
 */
export async function evaluateModel(
  ae: Autoencoder,
  config: ModelConfig,
  ds: TrainingData,
  opts: EvaluateOptions = {},
): Promise<ModelEvaluation> {
  const graph = InferenceGraph.create(ae, config);
  try {
    return await evaluateWith(ae, config, ds, opts, graph);
  } finally {
    graph?.dispose();
  }
}

async function evaluateWith(
  ae: Autoencoder,
  config: ModelConfig,
  ds: TrainingData,
  opts: EvaluateOptions,
  graph: InferenceGraph | undefined,
): Promise<ModelEvaluation> {
  const [h, w, c] = config.inputShape;
  const [dh, dw, dc] = ds.shape;
  if (dh !== h || dw !== w || dc !== c)
    throw new Error(`This model takes ${h}×${w}×${c} images; the dataset has ${dh}×${dw}×${dc}.`);
  const labels = ds.labels;
  const stage = opts.onStage ?? (() => undefined);
  const split = splitIndices(ds.count, config.validationSplit, config.seed, config.testSplit ?? 0);
  let heldOut: Int32Array = Int32Array.from([...split.val, ...split.test]);
  let train: Int32Array = split.train;
  if (heldOut.length === 0) {
    // a run without validation or test split: hold out a fifth of the dataset for the probes
    const s = splitIndices(ds.count, 0.2, config.seed);
    heldOut = s.val;
    train = s.train;
  }
  const excluded = new Set(config.excludeLabels ?? []);
  const trainedOn = labels && excluded.size ? train.filter((i) => !excluded.has(labels[i])) : train;
  const leftOut = labels && excluded.size ? train.filter((i) => excluded.has(labels[i])) : new Int32Array(0);
  const scored = Int32Array.from([...heldOut, ...leftOut]);

  // Reconstruction errors of the scored images.
  stage('reconstruction');
  const mse = new Float64Array(scored.length);
  const psnr = new Float64Array(scored.length);
  const ssim = new Float64Array(scored.length);
  if (graph) {
    const rows = new RowGather(ds, scored);
    for (let i = 0; i < scored.length; i += graph.chunk) {
      const n = Math.min(graph.chunk, scored.length - i);
      const out = graph.run(rows.slice(i, n), { mse: true, ssim: true });
      for (let k = 0; k < n; k++) {
        mse[i + k] = out.mse![k];
        psnr[i + k] = Math.min(100, psnrFromMse(out.mse![k]));
        ssim[i + k] = out.ssim![k];
      }
    }
  } else {
    const chunk = evalBatchSize(ds.shape, 256);
    const scoredImages = new BatchSource(ds, scored, chunk);
    for (let i = 0; i < scored.length; i += chunk) {
      const x = scoredImages.slice(i, Math.min(chunk, scored.length - i));
      const rec = tf.tidy(() => ae.decoder.predict(encodeMean(ae, x)) as tf.Tensor4D);
      const m = await imageMetrics(x, rec);
      tf.dispose([x, rec]);
      m.mse.forEach((v, k) => {
        mse[i + k] = v;
        psnr[i + k] = Math.min(100, m.psnr[k]);
        ssim[i + k] = m.ssim[k];
      });
    }
  }
  const mean = (a: ArrayLike<number>, idx?: number[]) => {
    const ks = idx ?? Array.from({ length: a.length }, (_, k) => k);
    return ks.reduce((s, k) => s + a[k], 0) / Math.max(1, ks.length);
  };
  const quality = (ks?: number[]): ImageQuality => ({
    count: ks ? ks.length : scored.length,
    mse: mean(mse, ks),
    psnr: mean(psnr, ks),
    ssim: mean(ssim, ks),
  });
  const labelOf = (i: number) => (labels ? labels[i] : -1);
  const labelSet = labels ? [...new Set(Array.from(labels.subarray(0, ds.count)))].sort((a, b) => a - b) : [-1];
  const perLabel = labelSet.map((label) => {
    const ks: number[] = [];
    scored.forEach((idx, k) => labelOf(idx) === label && ks.push(k));
    let total = 0;
    for (let i = 0; i < ds.count; i++) if (labelOf(i) === label) total++;
    return { label, total, train: trainedOn.filter((i) => labelOf(i) === label).length, ...quality(ks) };
  });

  // Histogram over [0, 99.5th percentile] so one outlier does not squash the rest.
  const sorted = Float64Array.from(mse).sort();
  const hi = sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.995))] || sorted[sorted.length - 1]
    : 1;
  const bins = opts.bins ?? 40;
  const hist = {
    lo: 0,
    hi,
    bins,
    perLabel: labelSet.map((label) => ({
      label,
      counts: histogram(
        Array.from(scored).flatMap((idx, k) => (labelOf(idx) === label ? [mse[k]] : [])),
        0,
        hi,
        bins,
      ),
    })),
  };
  const scores = Array.from(scored, (index, k) => ({ index, label: labelOf(index), mse: mse[k] })).sort(
    (a, b) => b.mse - a.mse,
  );

  let anomaly: ModelEvaluation['anomaly'];
  if (opts.anomalous?.length) {
    if (!labels) throw new Error('This dataset has no labels, so no label can be marked anomalous.');
    const unknown = opts.anomalous.filter((l) => !labelSet.includes(l));
    if (unknown.length)
      throw new Error(`The dataset has no label ${unknown.join(', ')} (its labels: ${labelSet.join(', ')}).`);
    const anomalous = new Set(opts.anomalous);
    const roc = rocCurve(
      mse,
      Array.from(scored, (i) => anomalous.has(labels[i])),
    );
    anomaly = {
      anomalous: [...anomalous].sort((a, b) => a - b),
      auc: roc.auc,
      positives: roc.positives,
      negatives: roc.negatives,
      roc: thin(roc.points, 256),
    };
  }

  // Probes: codes vs pixels vs PCA, fitted on (a subset of) the training split, scored on held-out rows.
  let probes: ModelEvaluation['probes'];
  if (labels) {
    // The pixel probes hold their rows as floats: big pictures get fewer rows (MNIST keeps 6,000 and 2,000).
    const byPixels = Math.max(200, Math.floor(PROBE_PIXEL_VALUES / (h * w * c)));
    const pTrain = train.subarray(0, Math.min(train.length, opts.probeTrainMax ?? Math.min(6000, byPixels)));
    const pTest = heldOut.subarray(
      0,
      Math.min(heldOut.length, opts.probeTestMax ?? Math.min(2000, Math.ceil(byPixels / 3))),
    );
    const probeLabels = [...new Set(Array.from(pTrain, (i) => labels[i]))].sort((a, b) => a - b);
    const testRows = pTest.filter((i) => probeLabels.includes(labels[i]));
    if (probeLabels.length >= 2 && testRows.length) {
      const cls = new Map(probeLabels.map((l, k) => [l, k]));
      const trainY = Int32Array.from(pTrain, (i) => cls.get(labels[i])!);
      const testY = Int32Array.from(testRows, (i) => cls.get(labels[i])!);
      stage('codes');
      const codes = { train: codesOf(ae, ds, pTrain, graph), test: codesOf(ae, ds, testRows, graph) };
      const px = { train: pixelsOf(ds, pTrain), test: pixelsOf(ds, testRows) };
      stage('pca');
      const pca = fitPca(px.train, config.latentDim);
      const pc = { train: projectPca(pca, px.train), test: projectPca(pca, px.test) };
      const data = (f: { train: tf.Tensor2D; test: tf.Tensor2D }): ProbeData => ({
        ...f,
        trainY,
        testY,
        classes: probeLabels.length,
      });
      const k = opts.k ?? 5;
      try {
        stage('linear probes');
        const linear = { codes: linearProbe(data(codes)), pixels: linearProbe(data(px)), pca: linearProbe(data(pc)) };
        stage('kNN');
        const knn = { codes: knnProbe(data(codes), k), pixels: knnProbe(data(px), k), pca: knnProbe(data(pc), k), k };
        probes = {
          dims: { codes: config.latentDim, pixels: h * w * c, pca: pca.k },
          pcaExplained: pca.explained,
          trainRows: pTrain.length,
          testRows: testRows.length,
          labels: probeLabels,
          linear,
          knn,
        };
      } finally {
        tf.dispose([codes.train, codes.test, px.train, px.test, pc.train, pc.test]);
      }
    }
  }

  return {
    counts: { total: ds.count, train: trainedOn.length, scored: scored.length },
    reconstruction: quality(),
    perLabel,
    probes,
    histogram: hist,
    scores,
    anomaly,
  };
}

/** The scores as CSV: index,label,mse,anomalous (worst first). */
export function scoresCsv(e: ModelEvaluation): string {
  const anomalous = new Set(e.anomaly?.anomalous ?? []);
  return (
    [
      'index,label,mse,anomalous',
      ...e.scores.map((s) => `${s.index},${s.label < 0 ? '' : s.label},${s.mse},${anomalous.has(s.label) ? 1 : 0}`),
    ].join('\n') + '\n'
  );
}
