// `ae-studio evaluate`: what a trained run's codes and errors are good for, from a terminal.
//   ae-studio evaluate --workspace WS --run ID --dataset NAME [--anomalous LABEL,…] [--scores scores.csv] [--json]
// Prints reconstruction metrics (MSE, PSNR, SSIM) on the images the run never trained on, the linear
// probe and kNN accuracies on the codes, on raw pixels and on PCA with as many dimensions as the
// code, the per-label counts and errors and, with --anomalous, the ROC AUC of reconstruction error
// as an anomaly score. The work is the engine's (src-main/engine/evaluate); this file only parses
// the arguments, loads the run and the dataset, and prints.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomicAsync } from '../fs-safety/atomic';
import { StoredRunSummary } from '../contract';
import { BUILTIN_NAMES, makeBuiltin, type BuiltinName } from '../datasets/builtins';
import { describeStoredDatasets, findDatasetId, loadDataset, loadMasks, readDatasetManifest } from '../datasets/store';
import { CropView } from '../engine/crops';

export const EVALUATE_USAGE =
  'ae-studio evaluate --workspace DIR --run ID --dataset NAME [--anomalous LABEL,...] [--scores scores.csv] [--json]';

/** A mistake in the arguments: exit code 2 like every other usage error of the CLI. */
class EvaluateUsageError extends Error {
  readonly code = 'ERR_PARSE_ARGS_EVALUATE';
  constructor(message: string) {
    super(`${message}\nUsage: ${EVALUATE_USAGE}`);
  }
}

const RUN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '–');
const fix = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : '–');

interface Data {
  images: Uint8Array;
  labels?: Int32Array;
  count: number;
  shape: [number, number, number];
  labelNames: string[];
}

/** A built-in dataset by name, or a stored one by id or name; `key` is what a run's run.json calls it. */
function loadNamed(ws: string, name: string): Data & { key: string } {
  if ((BUILTIN_NAMES as readonly string[]).includes(name)) return { ...makeBuiltin(name as BuiltinName), key: name };
  const id = findDatasetId(ws, name);
  if (!id)
    throw new Error(
      `There is no dataset '${name}' in ${ws}; use ${BUILTIN_NAMES.join(', ')} or one of: ${describeStoredDatasets(ws)}.`,
    );
  const d = loadDataset(ws, id);
  return {
    images: d.images as Uint8Array,
    labels: d.labels as Int32Array | undefined,
    count: d.count,
    shape: d.shape,
    labelNames: d.manifest.labelNames,
    key: id,
  };
}

/** How many images of `name` the run trained with (its run.json), so its split is reproduced exactly; undefined when the run used another dataset. */
function runCount(runDir: string, name: string): number | undefined {
  try {
    const r = StoredRunSummary.safeParse(JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')));
    if (!r.success) return undefined;
    const d = r.data.dataset;
    return ('builtin' in d ? d.builtin : d.id) === name ? d.count : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The inspection metrics (image ROC AUC, AP, F1-max; pixel ROC AUC and AUPRO where masks exist),
 * with the run's calibrated settings (model/inspection.json) or else the defaults un-normalised:
 * on every picture of an inspection test set, or on the scored pictures with --anomalous labels
 * as the defects. Undefined when neither applies.
 */
async function inspectionMeasures(
  ws: string,
  runId: string,
  dir: string,
  trained: import('../engine/trained-model').TrainedModel,
  data: Data & { key: string },
  ds: { images: Uint8Array; labels?: Int32Array; count: number },
  scored: Array<{ index: number; label: number }>,
  anomalous: number[] | undefined,
) {
  const role = findDatasetId(ws, data.key) ? readDatasetManifest(ws, data.key).inspection : undefined;
  if (role?.role !== 'test' && !anomalous) return undefined;
  const { loadInspection, DEFAULT_INSPECTION, CALIBRATION_OVERLAP, inspectWhole } =
    await import('../engine/inspect/calibration');
  const { inspectImages: inspectAtModelSize } = await import('../engine/inspect/inspect');
  const { inspectionMetrics } = await import('../engine/inspect/metrics');
  const calibration = loadInspection(path.join(dir, 'model'), runId);
  const settings = calibration?.settings ?? DEFAULT_INSPECTION;
  const per = data.shape[0] * data.shape[1] * data.shape[2];
  // a model trained on random crops scores whole pictures, by tiles (as its calibration did)
  const whole = { h: data.shape[0], w: data.shape[1], overlap: CALIBRATION_OVERLAP };
  const inspectImages: typeof inspectAtModelSize = (m, images, s, norm, o) =>
    m.config.cropSize
      ? inspectWhole(m, images, whole, { ...settings, ...s }, norm, o?.keepMaps ?? true)
      : inspectAtModelSize(m, images, s, norm, o);
  if (role?.role === 'test' && ds.labels) {
    const masks = role.masks
      ? loadMasks(ws, data.key)?.subarray(0, ds.count * data.shape[0] * data.shape[1])
      : undefined;
    const r = inspectImages(trained, ds.images.subarray(0, ds.count * per), settings, calibration?.normStats, {
      keepMaps: !!masks,
    });
    const metrics = inspectionMetrics({
      scores: r.scores[settings.score],
      labels: ds.labels,
      goodLabel: role.goodLabel,
      labelNames: data.labelNames,
      ...(masks ? { maps: r.maps, masks, h: r.h, w: r.w } : {}),
    });
    return { on: `all ${ds.count} pictures of the test set`, calibrated: !!calibration, settings, metrics };
  }
  const images = new Uint8Array(scored.length * per);
  scored.forEach((s, k) => images.set(ds.images.subarray(s.index * per, (s.index + 1) * per), k * per));
  const r = inspectImages(trained, images, settings, calibration?.normStats, { keepMaps: false });
  // anomalous labels are the defects; every other label is good (label 0 of a 0/1 relabelling)
  const labels = Int32Array.from(scored, (s) => (anomalous!.includes(s.label) ? 1 : 0));
  const metrics = inspectionMetrics({
    scores: r.scores[settings.score],
    labels,
    goodLabel: 0,
    labelNames: ['normal', 'anomalous'],
  });
  return {
    on: `the ${scored.length} scored pictures (never trained on)`,
    calibrated: !!calibration,
    settings,
    metrics,
  };
}

export async function evaluateCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      workspace: { type: 'string' },
      run: { type: 'string' },
      dataset: { type: 'string' },
      anomalous: { type: 'string' },
      scores: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.workspace) throw new EvaluateUsageError('--workspace DIR is required.');
  if (!values.run) throw new EvaluateUsageError('--run ID is required.');
  if (!values.dataset)
    throw new EvaluateUsageError(
      `--dataset NAME is required (${BUILTIN_NAMES.join(', ')} or a stored dataset's id or name; see 'ae-studio datasets').`,
    );
  if (!RUN_ID_RE.test(values.run) || values.run.includes('..'))
    throw new EvaluateUsageError(`'${values.run}' is not a run id.`);
  const ws = path.resolve(values.workspace);
  const dir = path.join(ws, 'runs', values.run);
  if (!fs.existsSync(dir)) throw new Error(`There is no run '${values.run}' in ${ws}.`);
  if (!fs.existsSync(path.join(dir, 'model', 'encoder', 'model.json')))
    throw new Error(`Run '${values.run}' has no trained model yet: let it finish training first.`);

  const data = loadNamed(ws, values.dataset);
  const n = Math.min(runCount(dir, data.key) ?? data.count, data.count);
  let anomalous: number[] | undefined;
  if (values.anomalous !== undefined) {
    if (!data.labels)
      throw new Error(`Dataset '${values.dataset}' has no labels, so no label can be marked anomalous.`);
    anomalous = values.anomalous
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const byName = data.labelNames.indexOf(s);
        if (byName >= 0) return byName;
        if (/^\d+$/.test(s) && Number(s) < Math.max(1, data.labelNames.length || 1_000_000)) return Number(s);
        throw new EvaluateUsageError(
          `--anomalous: '${s}' is not a label of '${values.dataset}' (labels: ${data.labelNames.join(', ') || 'numbers'}).`,
        );
      });
    if (!anomalous.length)
      throw new EvaluateUsageError('--anomalous needs at least one label, e.g. --anomalous 9 or --anomalous cat,dog.');
  }

  const { loadTrained } = await import('../engine/trained-model');
  const { evaluateModel, scoresCsv } = await import('../engine/evaluate');
  const trained = await loadTrained(dir);
  try {
    const size = data.shape[0] * data.shape[1] * data.shape[2];
    const ds = {
      images: data.images.subarray(0, n * size),
      labels: data.labels?.subarray(0, n),
      count: n,
      shape: data.shape,
    };
    // a crop run's reconstruction measures are on the fixed crops its validation used (engine/crops.ts)
    const crop = trained.config.cropSize;
    const e = await evaluateModel(trained.ae, trained.config, crop ? new CropView(ds, crop, trained.config.seed) : ds, {
      anomalous,
    });
    const name = (l: number) => (l < 0 ? '(none)' : (data.labelNames[l] ?? String(l)));
    const insp = await inspectionMeasures(ws, values.run, dir, trained, data, ds, e.scores, anomalous);
    if (values.scores) {
      await writeFileAtomicAsync(path.resolve(values.scores), scoresCsv(e));
    }
    if (values.json) {
      const { scores, histogram, ...rest } = e;
      out(
        JSON.stringify({
          run: values.run,
          dataset: values.dataset,
          labelNames: data.labelNames,
          ...rest,
          ...(insp
            ? {
                imageAuroc: insp.metrics.imageAuroc,
                imageAupr: insp.metrics.imageAupr,
                f1Max: insp.metrics.f1Max,
                f1Threshold: insp.metrics.f1Threshold,
                pixelAuroc: insp.metrics.pixelAuroc ?? null,
                aupro: insp.metrics.aupro ?? null,
                inspection: {
                  on: insp.on,
                  calibrated: insp.calibrated,
                  settings: insp.settings,
                  perType: insp.metrics.perType,
                  good: insp.metrics.good,
                  defective: insp.metrics.defective,
                },
              }
            : {}),
          histogram,
          worst: scores.slice(0, 20),
          scoresFile: values.scores ? path.resolve(values.scores) : undefined,
        }),
      );
      return 0;
    }
    const r = e.reconstruction;
    out(
      `Run '${values.run}' on '${values.dataset}': ${e.counts.total.toLocaleString('en-US')} images, trained on ${e.counts.train.toLocaleString('en-US')}, scored ${e.counts.scored.toLocaleString('en-US')} it never trained on`,
    );
    out(`Reconstruction: MSE ${fix(r.mse, 5)}  PSNR ${fix(r.psnr, 2)} dB  SSIM ${fix(r.ssim, 3)}`);
    if (e.probes) {
      const p = e.probes;
      out(
        `Probes (fitted on ${p.trainRows.toLocaleString('en-US')} training images, accuracy on ${p.testRows.toLocaleString('en-US')} held-out; chance ${pct(1 / p.labels.length)}):`,
      );
      out(`  ${'features'.padEnd(10)}${'dims'.padStart(7)}${'linear'.padStart(10)}${`kNN k=${p.knn.k}`.padStart(10)}`);
      for (const f of ['codes', 'pca', 'pixels'] as const) {
        out(
          `  ${(f === 'pca' ? 'PCA' : f).padEnd(10)}${String(p.dims[f]).padStart(7)}${pct(p.linear[f].accuracy).padStart(10)}${pct(p.knn[f].accuracy).padStart(10)}`,
        );
      }
      out(`  (PCA keeps ${pct(p.pcaExplained)} of the pixel variance)`);
    }
    out('Per label:');
    out(
      `  ${'label'.padEnd(14)}${'images'.padStart(8)}${'trained'.padStart(9)}${'scored'.padStart(8)}${'MSE'.padStart(10)}${'PSNR'.padStart(8)}${'SSIM'.padStart(7)}${e.probes ? 'probe'.padStart(8) : ''}`,
    );
    for (const l of e.perLabel) {
      const k = e.probes?.labels.indexOf(l.label) ?? -1;
      const probe = e.probes ? (k >= 0 ? pct(e.probes.linear.codes.perClass[k] ?? NaN) : '–').padStart(8) : '';
      out(
        `  ${name(l.label).slice(0, 13).padEnd(14)}${String(l.total).padStart(8)}${String(l.train).padStart(9)}${String(l.count).padStart(8)}${fix(l.mse, 5).padStart(10)}${fix(l.psnr, 2).padStart(8)}${fix(l.ssim, 3).padStart(7)}${probe}`,
      );
    }
    if (e.anomaly) {
      out(`Anomaly score = reconstruction MSE; anomalous: ${e.anomaly.anomalous.map(name).join(', ')}`);
      out(
        `  ROC AUC ${e.anomaly.auc.toFixed(4)} (${e.anomaly.positives} anomalous vs ${e.anomaly.negatives} normal images)`,
      );
    }
    if (insp) {
      const m = insp.metrics;
      out(
        `Inspection (${insp.settings.map === 'ssim' ? '1 − SSIM' : 'squared-error'} maps, score ${insp.settings.score}${insp.calibrated ? ', normalised as calibrated' : ', not calibrated: no normalisation'}) on ${insp.on}: ${m.good} good, ${m.defective} defective`,
      );
      out(
        `  ${'defect'.padEnd(14)}${'image AUROC'.padStart(12)}${'AP'.padStart(8)}${'F1-max'.padStart(8)}${'pixel AUROC'.padStart(13)}${'AUPRO'.padStart(8)}`,
      );
      const f = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v.toFixed(3) : '–');
      for (const t of [...m.perType, { ...m, name: 'all' }]) {
        out(
          `  ${t.name.slice(0, 13).padEnd(14)}${f(t.imageAuroc).padStart(12)}${f(t.imageAupr).padStart(8)}${f(t.f1Max).padStart(8)}${f(t.pixelAuroc).padStart(13)}${f(t.aupro).padStart(8)}`,
        );
      }
    }
    if (values.scores) out(`Scores of ${e.scores.length} images written to ${path.resolve(values.scores)}`);
    return 0;
  } finally {
    trained.dispose();
  }
}
