// Which feature space a run's samples are measured in: the dataset's classifier (feature-net.ts)
// when the dataset is labelled, else the codes of the best trained encoder on that dataset in the
// workspace (the completed run with the lowest held-out reconstruction MSE) — and a sentence
// saying which. Shared by `ae-studio evaluate --generation` and the Gallery.
import fs from 'node:fs';
import path from 'node:path';
import { StoredRunSummary } from '../../contract';
import type { Dataset } from '../data';
import { loadTrained, type TrainedModel } from '../trained-model';
import { datasetClasses, featureNetFor } from './feature-net';
import type { FeatureSpace } from './measure';

/** A copy of the dataset without the rows marked in `generated`. */
function realRows(ds: Dataset, generated: Uint8Array): Dataset {
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const rows: number[] = [];
  for (let i = 0; i < ds.count; i++) if (!generated[i]) rows.push(i);
  const images = new Uint8Array(rows.length * size);
  rows.forEach((r, k) => images.set(ds.images.subarray(r * size, (r + 1) * size) as Uint8Array, k * size));
  return {
    images,
    labels: ds.labels && Int32Array.from(rows, (r) => ds.labels![r]),
    count: rows.length,
    shape: ds.shape,
  };
}

export interface ChosenFeatureSpace {
  space: FeatureSpace;
  /** Where it came from (trained now, cached, or an encoder), in words. */
  note: string;
  dispose(): void;
}

/**
 * `key` is the dataset's store id or built-in name, `full` the whole dataset (the classifier trains
 * on it), `trained` and `runDir` the run being measured (its encoder is the fallback).
 */
export async function featureSpaceFor(
  ws: string,
  key: string,
  full: Dataset,
  trained: TrainedModel,
  runDir: string,
  maxImages?: number,
  /** Rows of `full` that are generated images: the classifier learns from real images only. */
  generated?: Uint8Array,
): Promise<ChosenFeatureSpace> {
  if (generated?.some((g) => g)) full = realRows(full, generated);
  if (datasetClasses(full).length >= 2) {
    const { net, trained: fresh } = await featureNetFor(ws, key, full, maxImages ? { maxImages } : {});
    const i = net.info;
    return {
      space: {
        kind: 'classifier',
        description: `penultimate layer (${net.dim}-d) of a small convolutional classifier trained on '${key}' (${i.trainImages} images, ${i.epochs} epochs, seed ${i.seed}; held-out accuracy ${(i.heldOutAccuracy * 100).toFixed(1)}%)`,
        dim: net.dim,
        features: (x, n) => net.features(x, n),
      },
      note: fresh ? 'trained now and cached in feature-nets/' : 'loaded from the workspace cache (feature-nets/)',
      dispose: () => net.dispose(),
    };
  }
  let best: { runId: string; mse: number } | undefined;
  const runsDir = path.join(ws, 'runs');
  for (const runId of fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : []) {
    try {
      const r = StoredRunSummary.safeParse(JSON.parse(fs.readFileSync(path.join(runsDir, runId, 'run.json'), 'utf8')));
      if (
        !r.success ||
        r.data.status !== 'completed' ||
        !fs.existsSync(path.join(runsDir, runId, 'model', 'encoder', 'model.json'))
      )
        continue;
      const d = r.data.dataset as { builtin?: string; id?: string };
      if ((d.builtin ?? d.id) !== key) continue;
      const m = r.data.metrics;
      const mse = m?.val?.mse ?? m?.test?.mse ?? m?.train.mse;
      if (mse !== undefined && Number.isFinite(mse) && (!best || mse < best.mse)) best = { runId, mse };
    } catch {
      // an unreadable run is not a candidate
    }
  }
  const own = path.basename(runDir);
  const runId = best?.runId ?? own;
  const enc = runId === own ? trained : await loadTrained(path.join(runsDir, runId));
  const d = enc.config.latentDim;
  return {
    space: {
      kind: 'encoder',
      description: `codes (${d}-d) of run '${runId}''s encoder, the best trained encoder on '${key}'${best ? ` (held-out MSE ${best.mse.toFixed(5)})` : ''}: the dataset has no labels, so no classifier can be trained on it`,
      dim: d,
      features: (x, n) => {
        const size = enc.pixels;
        const out = new Float32Array(n * d);
        for (let i = 0; i < n; i += 256) {
          const m = Math.min(256, n - i);
          out.set(enc.encode(x.subarray(i * size, (i + m) * size)), i * d);
        }
        return out;
      },
    },
    note: 'the features are a trained encoder’s codes, not a classifier’s',
    dispose: () => {
      if (enc !== trained) enc.dispose();
    },
  };
}
