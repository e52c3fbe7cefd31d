// Calibration of an inspection run (model/inspection.json; docs/inspection.md), where the trainer
// process and the CLI both need it: the run's good validation pictures (its own split of its
// dataset; labels the run left out are not "good") give the normalisation and, unless labelled
// defects exist, the percentile threshold; the paired test set of an MVTec-style import gives the
// F1-adaptive threshold and the measured AUCs. The trainer calibrates a run on an inspection set
// when it completes; `ae-studio inspect --calibrate` does it again with other settings.
import fs from 'node:fs';
import path from 'node:path';
import { StoredRunSummary } from '../contract';
import { makeBuiltin, type BuiltinName } from '../datasets/builtins';
import { loadDataset, loadMasks, readDatasetManifest } from '../datasets/store';
import { splitIndices } from '../engine/data';
import type { InspectionFile, InspectionSettings } from '../engine/inspect/calibration';

/** The run's dataset as run.json names it, and how many of its images the run used. */
export function runDataset(dir: string): { builtin?: string; id?: string; count?: number } {
  const r = StoredRunSummary.safeParse(JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')));
  if (!r.success) throw new Error(`${path.join(dir, 'run.json')} cannot be read as a run.`);
  return r.data.dataset as { builtin?: string; id?: string; count?: number };
}

/**
 * Calibrates run `runId` and writes model/inspection.json: the good validation pictures of its own
 * split (labels the run left out are not "good"), and the paired test set when its dataset has one.
 */
export async function calibrateRun(
  ws: string,
  runId: string,
  settings?: Partial<InspectionSettings>,
  percentileValue = 99,
  datasetRef?: { builtin?: string; id?: string; count?: number },
): Promise<InspectionFile> {
  const dir = path.join(ws, 'runs', runId);
  const { loadTrained } = await import('../engine/trained-model');
  const { calibrate, saveInspection, DEFAULT_INSPECTION } = await import('../engine/inspect/calibration');
  const trained = await loadTrained(dir);
  try {
    const c = trained.config;
    const ref = datasetRef ?? runDataset(dir);
    const ds = ref.builtin ? makeBuiltin(ref.builtin as BuiltinName) : loadDataset(ws, ref.id as string);
    const count = Math.min(ref.count ?? ds.count, ds.count);
    const split = splitIndices(count, c.validationSplit, c.seed, c.testSplit ?? 0);
    const excluded = new Set(c.excludeLabels ?? []);
    const val = Array.from(split.val).filter((i) => !excluded.has(ds.labels?.[i] ?? -1));
    if (val.length < 2)
      throw new Error(
        `Run '${runId}' has ${val.length} good validation picture(s); calibration needs a validation split (validationSplit > 0) of good pictures.`,
      );
    const per = c.inputShape[0] * c.inputShape[1] * c.inputShape[2];
    const good = new Uint8Array(val.length * per);
    val.forEach((i, k) => good.set(ds.images.subarray(i * per, (i + 1) * per), k * per));
    let labelled: Parameters<typeof calibrate>[5];
    const pair = ref.id ? readDatasetManifest(ws, ref.id).inspection : undefined;
    if (pair?.role === 'train') {
      const test = loadDataset(ws, pair.pair);
      if (test.shape.join('x') !== c.inputShape.join('x'))
        throw new Error(
          `The test set '${test.manifest.name}' has ${test.shape.join('×')} pictures; the model takes ${c.inputShape.join('×')}.`,
        );
      labelled = {
        name: test.manifest.name,
        images: test.images as Uint8Array,
        labels: test.labels as Int32Array,
        goodLabel: test.manifest.inspection?.goodLabel ?? 0,
        labelNames: test.manifest.labelNames,
        masks: loadMasks(ws, pair.pair),
      };
      // a good-suspects set has no labelled defects: its suspects are not "defective" for the F1
      if (test.manifest.inspection?.layout === 'good-suspects') labelled = undefined;
    }
    const file = calibrate(
      trained,
      runId,
      path.join(dir, 'model'),
      good,
      { ...DEFAULT_INSPECTION, ...settings },
      labelled,
      percentileValue,
    );
    saveInspection(path.join(dir, 'model'), file);
    return file;
  } finally {
    trained.dispose();
  }
}

/** Whether a run on this dataset is an inspection run the trainer calibrates when it completes. */
export function isInspectionTraining(ws: string, dataset: { builtin?: string; id?: string }): boolean {
  if (!dataset.id) return false;
  try {
    return readDatasetManifest(ws, dataset.id).inspection?.role === 'train';
  } catch {
    return false;
  }
}
