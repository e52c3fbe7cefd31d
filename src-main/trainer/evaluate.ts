// The Gallery's evaluation of a trained run, inside the trainer process: the engine's evaluateModel
// on the run's own dataset and split, cached per run (probes take seconds); marking labels anomalous
// only recomputes the ROC curve from the cached scores. Returns plain data (contract/evaluate.ts).
import { evaluateModel, rocCurve, scoresCsv, type ModelEvaluation } from '../engine/evaluate';
import type { Evaluation, ProbeScore } from '../contract';
import { toTensor } from '../engine/data';
import { atModelSize, openRunDataset } from './runs';
import { forgotten, modelFor } from './gallery';
import { readDatasetManifest } from '../datasets/store';
import { toBase64 } from '../datasets/base64';
import type { MethodParams } from './protocol';

interface Cached {
  e: ModelEvaluation;
  labelNames: string[];
  shape: Evaluation['shape'];
  worst: Evaluation['worst'];
}
const cache = new Map<string, Cached>();
forgotten.push((runDir) => cache.delete(runDir));

const toU8 = (f: Float32Array) => Uint8Array.from(f, (v) => Math.max(0, Math.min(255, Math.round(v * 255))));
const WORST = 48;

async function base(p: MethodParams<'evaluate'>): Promise<Cached> {
  const hit = cache.get(p.runDir);
  if (hit) return hit;
  const m = await modelFor(p.runDir);
  // A big stored dataset stays in its file: the evaluation reads it a chunk at a time, as training does.
  const ds = atModelSize(openRunDataset(p.dataset, p.workspaceDir), m.config);
  let e: ModelEvaluation;
  let originals: Float32Array;
  try {
    e = await evaluateModel(m.ae, m.config, ds);
    const x = toTensor(
      ds,
      e.scores.slice(0, WORST).map((s) => s.index),
    );
    originals = x.dataSync() as Float32Array;
    x.dispose();
  } finally {
    ds.close();
  }
  const labelNames =
    'builtin' in p.dataset
      ? ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']
      : readDatasetManifest(p.workspaceDir, p.dataset.id).labelNames;
  const top = e.scores.slice(0, WORST);
  const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const rec = m.reconstruct(originals);
  const split = (f: Float32Array) => top.map((_, k) => toBase64(toU8(f.subarray(k * per, (k + 1) * per))));
  const worst = {
    originals: split(originals),
    reconstructions: split(rec),
    mse: top.map((s) => s.mse),
    labels: top.map((s) => s.label),
    indices: top.map((s) => s.index),
  };
  const c: Cached = { e, labelNames, shape: ds.shape, worst };
  cache.set(p.runDir, c);
  return c;
}

export async function evaluateRun(p: MethodParams<'evaluate'>): Promise<Evaluation> {
  const c = await base(p);
  const { e } = c;
  let anomaly: ModelEvaluation['anomaly'];
  if (p.anomalous.length) {
    const known = new Set(e.perLabel.map((l) => l.label));
    const unknown = p.anomalous.filter((l) => !known.has(l));
    if (unknown.length) throw new Error(`The dataset has no label ${unknown.join(', ')}.`);
    const set = new Set(p.anomalous);
    const roc = rocCurve(
      e.scores.map((s) => s.mse),
      e.scores.map((s) => set.has(s.label)),
    );
    const step = Math.max(1, Math.ceil(roc.points.length / 256));
    const pts = roc.points.filter((_, i) => i % step === 0 || i === roc.points.length - 1);
    anomaly = {
      anomalous: [...set].sort((a, b) => a - b),
      auc: roc.auc,
      positives: roc.positives,
      negatives: roc.negatives,
      roc: pts,
    };
  }
  const h = e.histogram;
  const w = (h.hi - h.lo) / h.bins;
  const edges = Array.from({ length: h.bins + 1 }, (_, b) => h.lo + b * w);
  const above = edges.map((edge) => e.scores.filter((s) => s.mse >= edge).length);
  const nan = (v: number) => (Number.isFinite(v) ? v : null);
  const probe = (s: ProbeScore): ProbeScore => ({
    ...s,
    perClass: s.perClass.map((v) => (v === null ? null : nan(v))),
  });
  const probes = e.probes && {
    ...e.probes,
    linear: {
      codes: probe(e.probes.linear.codes),
      pixels: probe(e.probes.linear.pixels),
      pca: probe(e.probes.linear.pca),
    },
    knn: {
      codes: probe(e.probes.knn.codes),
      pixels: probe(e.probes.knn.pixels),
      pca: probe(e.probes.knn.pca),
      k: e.probes.knn.k,
    },
  };
  return {
    labelNames: c.labelNames,
    shape: c.shape,
    counts: e.counts,
    reconstruction: e.reconstruction,
    perLabel: e.perLabel,
    probes,
    histogram: h,
    edges,
    above,
    worst: c.worst,
    csv: scoresCsv({ ...e, anomaly: anomaly && { ...anomaly, roc: [] } }),
    anomaly: anomaly && { ...anomaly, roc: anomaly.roc.map((r) => ({ ...r, threshold: nan(r.threshold) })) },
  };
}
