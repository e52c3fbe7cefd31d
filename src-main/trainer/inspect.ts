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
import { imagesToBase64 } from '../datasets/base64';
import type { MethodParams } from './protocol';

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
  const { calibrate, saveInspection, DEFAULT_INSPECTION, CALIBRATION_OVERLAP } =
    await import('../engine/inspect/calibration');
  const { CropView } = await import('../engine/crops');
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
    // a crop run (config cropSize) scores whole pictures by tiles: normalisation on the fixed crops
    // validation used, threshold and measures on the whole pictures (engine/inspect/calibration.ts)
    const crop = c.cropSize ?? 0;
    const modelShape = c.inputShape.join('x');
    const pictureShape = crop ? ds.shape : c.inputShape;
    const rowsOf = (images: Uint8Array, per: number, rows: number[]) => {
      const out = new Uint8Array(rows.length * per);
      rows.forEach((i, k) => out.set(images.subarray(i * per, (i + 1) * per), k * per));
      return out;
    };
    const fullPer = pictureShape[0] * pictureShape[1] * pictureShape[2];
    const goodWhole = rowsOf(ds.images as Uint8Array, fullPer, val);
    const good = crop ? new CropView(ds, crop, c.seed).images.readRows(val.length, (k) => val[k]).slice() : goodWhole;
    const whole = crop ? { good: goodWhole, h: ds.shape[0], w: ds.shape[1], overlap: CALIBRATION_OVERLAP } : undefined;
    let labelled: Parameters<typeof calibrate>[5];
    const pair = ref.id ? readDatasetManifest(ws, ref.id).inspection : undefined;
    if (pair?.role === 'train') {
      const test = loadDataset(ws, pair.pair);
      if (test.shape.join('x') !== (crop ? ds.shape.join('x') : modelShape))
        throw new Error(
          crop
            ? `The test set '${test.manifest.name}' has ${test.shape.join('×')} pictures; the run trained on crops of ${ds.shape.join('×')} pictures.`
            : `The test set '${test.manifest.name}' has ${test.shape.join('×')} pictures; the model takes ${c.inputShape.join('×')}.`,
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
      whole,
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

/** The most pictures the Inspect panel scores for its histogram (the first of the test set or of the validation split). */
const PANEL_MAX_ALL = 2000;
/** The same for a crop run, whose pictures are scored whole, by tiles (each takes dozens of tiles). */
const PANEL_MAX_TILED = 200;

type InspectParams = MethodParams<'inspect'>;

/** The pictures the panel scores: the paired test set of an inspection set (labels, masks), else the run's validation split (the labels the run left out count as defects). */
function panelPictures(
  p: InspectParams,
  shape: readonly [number, number, number],
  c: { validationSplit: number; seed: number; testSplit?: number; excludeLabels?: number[]; cropSize?: number },
) {
  const per = shape[0] * shape[1] * shape[2];
  const PANEL_MAX = c.cropSize ? PANEL_MAX_TILED : PANEL_MAX_ALL;
  const pair = 'id' in p.dataset ? readDatasetManifest(p.workspaceDir, p.dataset.id).inspection : undefined;
  if (pair?.role === 'train') {
    const test = loadDataset(p.workspaceDir, pair.pair);
    if (test.shape.join('x') !== shape.join('x'))
      throw new Error(
        `The test set '${test.manifest.name}' has ${test.shape.join('×')} pictures; the model takes ${shape.join('×')}.`,
      );
    const n = Math.min(test.count, PANEL_MAX);
    const labels = Array.from((test.labels ?? new Int32Array(n)).subarray(0, n), Number);
    const goodLabel = test.manifest.inspection?.goodLabel ?? 0;
    const masks = loadMasks(p.workspaceDir, pair.pair);
    return {
      source: { name: test.manifest.name, kind: 'test' as const },
      images: (test.images as Uint8Array).subarray(0, n * per),
      labels,
      labelNames: test.manifest.labelNames,
      // a good-suspects set has no labelled defects: nothing is known to be defective
      defective: labels.map((l) => test.manifest.inspection?.layout !== 'good-suspects' && l !== goodLabel),
      masks: masks?.subarray(0, n * shape[0] * shape[1]),
    };
  }
  const ref = p.dataset as { builtin?: string; id?: string; count?: number };
  const ds = ref.builtin ? makeBuiltin(ref.builtin as BuiltinName) : loadDataset(p.workspaceDir, ref.id as string);
  const count = Math.min(ref.count ?? ds.count, ds.count);
  const split = splitIndices(count, c.validationSplit, c.seed, c.testSplit ?? 0);
  const rows = Array.from(split.val.length ? split.val : split.train).slice(0, PANEL_MAX);
  const images = new Uint8Array(rows.length * per);
  rows.forEach((i, k) => images.set((ds.images as Uint8Array).subarray(i * per, (i + 1) * per), k * per));
  const excluded = new Set(c.excludeLabels ?? []);
  const labels = rows.map((i) => Number(ds.labels?.[i] ?? 0));
  const names = ref.builtin
    ? Array.from({ length: 10 }, (_, i) => String(i))
    : readDatasetManifest(p.workspaceDir, ref.id as string).labelNames;
  return {
    source: {
      name: ref.builtin ? 'MNIST' : readDatasetManifest(p.workspaceDir, ref.id as string).name,
      kind: 'validation' as const,
    },
    images,
    labels,
    labelNames: names,
    defective: labels.map((l) => excluded.has(l)),
    masks: undefined,
  };
}

/** Maps as uint8 heat: 0 at lo, 255 at hi. */
const heat = (maps: Float32Array, lo: number, hi: number) =>
  Uint8Array.from(maps, (v) => Math.max(0, Math.min(255, Math.round(((v - lo) / (hi - lo)) * 255))));

/** The heat scale: twice the threshold (a pixel at the threshold's level is half-way), or the shown maps' 99.5th percentile without one. */
function mapRange(
  threshold: number | undefined,
  maps: Float32Array,
  percentileOf: (v: ArrayLike<number>, p: number) => number,
): [number, number] {
  const hi =
    threshold !== undefined && threshold > 0
      ? 2 * threshold
      : percentileOf(maps.length > 200_000 ? maps.subarray(0, 200_000) : maps, 99.5);
  return [0, Number.isFinite(hi) && hi > 0 ? hi : 1];
}

/** The Inspect panel's operations (contract/inspection.ts): images, calibrate, threshold, try. */
export async function inspectOp(p: InspectParams): Promise<unknown> {
  const modelDir = path.join(p.runDir, 'model');
  const cal = await import('../engine/inspect/calibration');
  const { inspectImages } = await import('../engine/inspect/inspect');
  if (p.op === 'threshold') return cal.setThreshold(modelDir, p.runId, p.value as number);
  if (p.op === 'calibrate') {
    await calibrateRun(
      p.workspaceDir,
      p.runId,
      p.settings,
      p.percentile ?? 99,
      p.dataset as { builtin?: string; id?: string; count?: number },
    );
  }
  const { modelFor, decodeTryFiles } = await import('./gallery');
  const m = await modelFor(p.runDir);
  const shape = m.config.inputShape;
  const [h, w] = shape;
  const per = h * w * shape[2];
  let file: ReturnType<typeof cal.loadInspection>;
  let note: string | undefined;
  try {
    file = cal.loadInspection(modelDir, p.runId);
    if (!file)
      note =
        'This run has not been calibrated for inspection yet: Calibrate measures the normalisation and the threshold on its good validation pictures.';
  } catch (err) {
    note = (err as Error).message.replace(/ with: ae-studio inspect --calibrate …/, '');
  }
  if (p.op === 'try') {
    if (!file) throw new Error(note ?? 'Calibrate this run first.');
    // a crop run always scores new pictures whole, by tiles (it never saw a picture shrunk to its input)
    if (p.tile || m.config.cropSize) return tryTiled(p, m, file, cal.percentile);
    const decoded = await decodeTryFiles(
      { dataset: p.dataset, workspaceDir: p.workspaceDir, files: p.files ?? [] },
      shape,
    );
    const ok = decoded.filter((d) => d.px);
    const images = new Uint8Array(ok.length * per);
    ok.forEach((d, k) => images.set(d.px as Uint8Array, k * per));
    const res = ok.length ? inspectImages(m, images, file.settings, file.normStats) : undefined;
    const range = mapRange(file.threshold.value, res?.maps ?? new Float32Array(0), cal.percentile);
    let k = 0;
    return {
      shape,
      threshold: file.threshold.value,
      mapRange: range,
      results: decoded.map((d) => {
        if (!d.px || !res) return { name: d.name, error: d.error };
        const i = k++;
        const score = res.scores[file.settings.score][i];
        return {
          name: d.name,
          original: imagesToBase64(d.px, per)[0],
          map: imagesToBase64(heat(res.maps.subarray(i * h * w, (i + 1) * h * w), range[0], range[1]), h * w)[0],
          score,
          defective: score >= file.threshold.value,
        };
      }),
    };
  }
  // a crop run's pictures are its dataset's whole pictures, scored by tiles of the crop's size
  const crop = m.config.cropSize ?? 0;
  const picShape: [number, number, number] =
    crop && 'id' in p.dataset ? readDatasetManifest(p.workspaceDir, p.dataset.id).shape : shape;
  const [ph, pw] = picShape;
  const pper = ph * pw * picShape[2];
  const whole = { h: ph, w: pw, overlap: cal.CALIBRATION_OVERLAP };
  const score = (images: Uint8Array, keepMaps: boolean) =>
    crop && file
      ? cal.inspectWhole(m, images, whole, file.settings, file.normStats, keepMaps)
      : inspectImages(m, images, file!.settings, file!.normStats, { keepMaps });
  const pics = panelPictures(p, picShape, m.config);
  const base = {
    shape: picShape,
    source: pics.source,
    labels: pics.labels,
    labelNames: pics.labelNames,
    defective: pics.defective,
  };
  if (!file)
    return { ...base, calibration: null, note, scores: [], defective: [], labels: [], mapRange: [0, 1], items: [] };
  const n = pics.images.length / pper;
  const scores = score(pics.images, false).scores[file.settings.score];
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const worst = order.slice(0, Math.min(n, p.count ?? 24));
  const chosen = new Uint8Array(worst.length * pper);
  worst.forEach((i, k) => chosen.set(pics.images.subarray(i * pper, (i + 1) * pper), k * pper));
  const maps = worst.length ? score(chosen, true).maps : new Float32Array(0);
  const range = mapRange(file.threshold.value, maps, cal.percentile);
  const { normStats: _n, ...rest } = file;
  return {
    ...base,
    calibration: {
      settings: rest.settings,
      threshold: rest.threshold,
      goodValidation: rest.goodValidation,
      ...(rest.measured ? { measured: rest.measured } : {}),
      createdAt: rest.createdAt,
    },
    ...(note ? { note } : {}),
    scores: Array.from(scores),
    mapRange: range,
    items: worst.map((i, k) => ({
      index: i,
      score: scores[i],
      original: imagesToBase64(chosen.subarray(k * pper, (k + 1) * pper), pper)[0],
      map: imagesToBase64(heat(maps.subarray(k * ph * pw, (k + 1) * ph * pw), range[0], range[1]), ph * pw)[0],
      ...(pics.masks ? { mask: imagesToBase64(pics.masks.subarray(i * ph * pw, (i + 1) * ph * pw), ph * pw)[0] } : {}),
    })),
  };
}

/** The most pixels a side of a tiled Try it result is shown with (bigger pictures are subsampled for display; their score is not). */
const SHOW_SIDE = 1024;

/** Try it at full size: each picture scored by overlapping tiles of the model's size (engine/inspect/tiles.ts), its stitched map shown. */
async function tryTiled(
  p: InspectParams,
  m: Awaited<ReturnType<typeof import('./gallery').modelFor>>,
  file: NonNullable<ReturnType<typeof import('../engine/inspect/calibration').loadInspection>>,
  percentileOf: (v: ArrayLike<number>, p: number) => number,
): Promise<unknown> {
  const { inspectTiled } = await import('../engine/inspect/tiles');
  const { decodeFullSize } = await import('../datasets/import');
  const [t, , c] = m.config.inputShape;
  if (c !== 1 && c !== 3)
    throw new Error(`This model takes ${c}-channel pictures; full-size Try it works with grayscale or RGB models.`);
  const thr = file.threshold.value;
  const range = mapRange(thr, new Float32Array(0), percentileOf);
  const results = [];
  for (const f of p.files ?? []) {
    let pic: { px: Uint8Array; h: number; w: number };
    try {
      pic = await decodeFullSize(Buffer.from(f.data, 'base64'), c, t);
    } catch (err) {
      results.push({ name: f.name, error: (err as Error).message });
      continue;
    }
    const r = inspectTiled(m, pic.px, pic.h, pic.w, file.settings, file.normStats);
    const score = r.scores[file.settings.score];
    const step = Math.max(1, Math.ceil(Math.max(pic.h, pic.w) / SHOW_SIDE));
    const [sh, sw] = [Math.ceil(pic.h / step), Math.ceil(pic.w / step)];
    const shown = new Uint8Array(sh * sw * c);
    const map = new Float32Array(sh * sw);
    for (let y = 0; y < sh; y++)
      for (let x = 0; x < sw; x++) {
        const src = y * step * pic.w + x * step;
        map[y * sw + x] = r.map[src];
        for (let k = 0; k < c; k++) shown[(y * sw + x) * c + k] = pic.px[src * c + k];
      }
    results.push({
      name: f.name,
      original: imagesToBase64(shown, shown.length)[0],
      map: imagesToBase64(heat(map, range[0], range[1]), map.length)[0],
      score,
      defective: score >= thr,
      size: [sh, sw],
      step,
    });
  }
  return { shape: m.config.inputShape, threshold: thr, mapRange: range, results };
}
