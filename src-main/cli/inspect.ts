// `ae-studio inspect`: defect inspection with a trained run, from a terminal.
//   ae-studio inspect --workspace WS --run ID PATH… [--maps DIR] [--csv FILE] [--json]
//   ae-studio inspect --workspace WS --run ID --calibrate [--map ssim|l2] [--score topk|max|mean] [--smooth SIGMA] [--topk PERCENT] [--percentile P] [--json]
// Each picture (files, or folders of pictures) gets an anomaly score, a verdict against the run's
// threshold and, with --maps, a heat-map PNG over the picture. The threshold and the normalisation
// come from the run's model/inspection.json, made by --calibrate (and by `train --preset
// inspection`): good validation pictures of the run's dataset give the normalisation; the paired
// test set of an MVTec-style import (labelled defects, masks) gives the F1-adaptive threshold and
// the measured AUCs, else the threshold is the 99th percentile of the good validation scores.
// With --tile, pictures are scored at their own resolution by overlapping tiles of the model's size
// (for models trained on crops at that scale; maps at full size). Exit 0 when it ran, whatever the verdicts. The work is the engine's (src-main/engine/inspect).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { writeFileAtomicAsync } from '../fs-safety/atomic';
import { readDatasetManifest } from '../datasets/store';
import { decodeImage } from '../datasets/import';
import { IMAGE_EXT } from '../datasets/import/options';
import { calibrateRun, runDataset } from '../trainer/inspect';
import type { InspectionFile, InspectionSettings } from '../engine/inspect/calibration';
import { UsageError } from './errors';

export { calibrateRun };

export { INSPECT_USAGE } from './inspect-usage';

const RUN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const fix = (v: number | undefined, d = 3) => (v !== undefined && Number.isFinite(v) ? v.toFixed(d) : '–');

function runDirOf(ws: string, run: string | undefined): string {
  if (!run) throw new UsageError('--run ID is required.');
  if (!RUN_ID_RE.test(run) || run.includes('..')) throw new UsageError(`'${run}' is not a run id.`);
  const dir = path.join(ws, 'runs', run);
  if (!fs.existsSync(dir)) throw new Error(`There is no run '${run}' in ${ws}.`);
  if (!fs.existsSync(path.join(dir, 'model', 'encoder', 'model.json')))
    throw new Error(`Run '${run}' has no trained model yet: let it finish training first.`);
  return dir;
}

/** What calibration found, in a few lines. */
export function describeInspection(f: InspectionFile): string[] {
  const s = f.settings;
  const lines = [
    `Inspection: ${s.map === 'ssim' ? '1 − SSIM' : 'squared error'} maps, smoothed σ = ${s.smoothSigma} px, normalised on ${f.goodValidation} good validation pictures; score = ${s.score === 'topk' ? `mean of the top ${s.topkPercent} %` : s.score}`,
    `Threshold ${fix(f.threshold.value, 4)} (${
      f.threshold.method === 'manual'
        ? `chosen in the Inspect panel${f.threshold.measured ? `; calibration measured ${fix(f.threshold.measured.value, 4)}` : ''}`
        : f.threshold.method === 'f1'
          ? `F1-adaptive on '${f.measured?.dataset}', F1 ${fix(f.threshold.f1)}`
          : `${f.threshold.percentile}th percentile of the good validation scores`
    })`,
  ];
  const m = f.measured;
  if (m) {
    lines.push(`Measured on '${m.dataset}' (${m.good} good, ${m.defective} defective, never trained on):`);
    lines.push(
      `  ${'defect'.padEnd(14)}${'image AUROC'.padStart(12)}${'AP'.padStart(8)}${'F1-max'.padStart(8)}${'pixel AUROC'.padStart(13)}${'AUPRO'.padStart(8)}`,
    );
    for (const t of [...m.perType, { ...m, name: 'all' }]) {
      lines.push(
        `  ${t.name.slice(0, 13).padEnd(14)}${fix(t.imageAuroc).padStart(12)}${fix(t.imageAupr).padStart(8)}${fix(t.f1Max).padStart(8)}${fix(t.pixelAuroc).padStart(13)}${fix(t.aupro).padStart(8)}`,
      );
    }
    if (m.imageAuroc < 0.7)
      lines.push(
        `  Note: an image ROC AUC of ${fix(m.imageAuroc)} is weak (0.5 is chance): treat the verdicts as hints, not decisions.`,
      );
  }
  return lines;
}

/** Picture files of the given paths (folders are walked, sorted by name). */
function pictureFiles(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(p).sort()) if (!e.startsWith('.')) walk(path.join(p, e));
    } else if (st.isFile() && IMAGE_EXT.has(path.extname(p).toLowerCase())) out.push(p);
  };
  for (const p of paths) {
    const abs = path.resolve(p);
    if (!fs.existsSync(abs)) throw new Error(`${p} does not exist.`);
    walk(abs);
  }
  return out;
}

/** Blue (0) → yellow → red (1) over the grey picture, half and half. */
function heatmapPng(
  picture: Uint8Array,
  channels: number,
  map: Float32Array,
  scale: number,
  h: number,
  w: number,
): Promise<Buffer> {
  const rgb = Buffer.alloc(h * w * 3);
  for (let p = 0; p < h * w; p++) {
    const grey = channels === 3 ? (picture[p * 3] + picture[p * 3 + 1] + picture[p * 3 + 2]) / 3 : picture[p];
    const t = Math.min(1, Math.max(0, map[p] / scale));
    const heat = t < 0.5 ? [0, 255 * 2 * t, 255 * (1 - 2 * t)] : [255, 255 * (2 - 2 * t), 0];
    for (let k = 0; k < 3; k++) rgb[p * 3 + k] = Math.round(0.5 * grey + 0.5 * heat[k]);
  }
  return sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer();
}

export async function inspectCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      workspace: { type: 'string' },
      run: { type: 'string' },
      maps: { type: 'string' },
      csv: { type: 'string' },
      json: { type: 'boolean', default: false },
      calibrate: { type: 'boolean', default: false },
      map: { type: 'string' },
      score: { type: 'string' },
      smooth: { type: 'string' },
      topk: { type: 'string' },
      percentile: { type: 'string' },
      tile: { type: 'boolean', default: false },
      overlap: { type: 'string' },
    },
  });
  if (!values.workspace) throw new UsageError('--workspace DIR is required.');
  const ws = path.resolve(values.workspace);
  const runId = values.run as string;
  const dir = runDirOf(ws, values.run);
  const { loadInspection } = await import('../engine/inspect/calibration');

  if (values.calibrate) {
    if (positionals.length)
      throw new UsageError(
        "--calibrate measures on the run's own validation pictures and test set; give no pictures with it.",
      );
    const settings: Partial<InspectionSettings> = {};
    if (values.map !== undefined) {
      if (values.map !== 'ssim' && values.map !== 'l2') throw new UsageError('--map must be ssim or l2.');
      settings.map = values.map;
    }
    if (values.score !== undefined) {
      if (!['topk', 'max', 'mean'].includes(values.score)) throw new UsageError('--score must be topk, max or mean.');
      settings.score = values.score as InspectionSettings['score'];
    }
    const num = (v: string | undefined, name: string, lo: number, hi: number) => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n) || n < lo || n > hi)
        throw new UsageError(`--${name} must be a number from ${lo} to ${hi}.`);
      return n;
    };
    const smooth = num(values.smooth, 'smooth', 0, 32);
    if (smooth !== undefined) settings.smoothSigma = smooth;
    const topk = num(values.topk, 'topk', 0.01, 100);
    if (topk !== undefined) settings.topkPercent = topk;
    const f = await calibrateRun(ws, runId, settings, num(values.percentile, 'percentile', 50, 100) ?? 99);
    if (values.json) out(JSON.stringify({ ...f, norm: undefined, file: path.join(dir, 'model', 'inspection.json') }));
    else for (const line of describeInspection(f)) out(line);
    return 0;
  }

  if (!positionals.length) throw new UsageError('Give the pictures (files or folders) to inspect, or --calibrate.');
  let insp = loadInspection(path.join(dir, 'model'), runId);
  if (!insp) {
    if (!values.json)
      out(`Run '${runId}' has no inspection settings yet: calibrating on its validation pictures first …`);
    await calibrateRun(ws, runId);
    insp = loadInspection(path.join(dir, 'model'), runId)!;
  }
  const files = pictureFiles(positionals);
  if (!files.length) throw new Error(`No pictures (${[...IMAGE_EXT].join(', ')}) in ${positionals.join(', ')}.`);
  const { loadTrained } = await import('../engine/trained-model');
  const { inspectImages } = await import('../engine/inspect/inspect');
  const trained = await loadTrained(dir);
  try {
    const [h, w, c] = trained.config.inputShape;
    // a model trained on random crops scores every picture at its own resolution, by tiles of the crop's size
    const tiled = values.tile || (trained.config.cropSize ?? 0) > 0;
    const ref = runDataset(dir);
    const fit = (ref.id ? readDatasetManifest(ws, ref.id).options?.fit : undefined) ?? 'stretch';
    const opts = {
      size: h,
      mode: c === 3 ? ('rgb' as const) : ('grayscale' as const),
      fit: fit as 'stretch' | 'crop' | 'pad',
    };
    if (h !== w) throw new Error(`This model takes ${h}×${w} pictures; inspect decodes square pictures only.`);
    const results: Array<{ file: string; score: number; verdict: 'defective' | 'good'; map?: string; error?: string }> =
      [];
    const per = h * w * c;
    const decoded: Array<{ file: string; px: Uint8Array }> = [];
    for (const f of tiled ? [] : files) {
      try {
        decoded.push({ file: f, px: await decodeImage(fs.readFileSync(f), f, opts) });
      } catch (err) {
        results.push({ file: f, score: NaN, verdict: 'good', error: (err as Error).message });
      }
    }
    if (values.maps) fs.mkdirSync(path.resolve(values.maps), { recursive: true });
    const thr = insp.threshold.value;
    // map scale: the threshold (in the map's units for max/top-k scores) sits in the middle of the colours
    const scale = Math.max(1e-6, 2 * Math.abs(thr));
    if (tiled) {
      // big pictures at their own resolution, by overlapping tiles of the model's size (engine/inspect/tiles.ts)
      const overlap = values.overlap === undefined ? 0.5 : Number(values.overlap);
      if (!(overlap >= 0 && overlap < 1))
        throw new UsageError(
          '--overlap must be a number from 0 to under 1 (the share of a tile its neighbour covers).',
        );
      const { inspectTiled } = await import('../engine/inspect/tiles');
      decoded.length = 0;
      for (const f of files) {
        let px: Uint8Array;
        let ph: number;
        let pw: number;
        try {
          let img = sharp(fs.readFileSync(f), { limitInputPixels: 50_000_000 }).flatten({ background: '#000000' });
          const meta = await img.metadata();
          if ((meta.width ?? 0) < h || (meta.height ?? 0) < h)
            img = img.resize(Math.max(h, meta.width ?? h), Math.max(h, meta.height ?? h), { fit: 'fill' });
          img = c === 1 ? img.grayscale() : img.toColourspace('srgb');
          const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
          [ph, pw] = [info.height, info.width];
          px = new Uint8Array(ph * pw * c);
          for (let p = 0; p < ph * pw; p++)
            for (let k = 0; k < c; k++) px[p * c + k] = data[p * info.channels + Math.min(k, info.channels - 1)];
        } catch (err) {
          results.push({ file: f, score: NaN, verdict: 'good', error: (err as Error).message.split('\n')[0] });
          continue;
        }
        const r = inspectTiled(trained, px, ph, pw, insp.settings, insp.normStats, overlap);
        const score = r.scores[insp.settings.score];
        const entry: (typeof results)[number] = { file: f, score, verdict: score >= thr ? 'defective' : 'good' };
        if (values.maps) {
          const target = path.join(path.resolve(values.maps), `${path.basename(f, path.extname(f))}_map.png`);
          await writeFileAtomicAsync(target, await heatmapPng(px, c, r.map, scale, ph, pw));
          entry.map = target;
        }
        results.push(entry);
      }
    }
    const BATCH = 32;
    for (let i = 0; i < decoded.length; i += BATCH) {
      const part = decoded.slice(i, i + BATCH);
      const images = new Uint8Array(part.length * per);
      part.forEach((d, k) => images.set(d.px, k * per));
      const r = inspectImages(trained, images, insp.settings, insp.normStats);
      for (let k = 0; k < part.length; k++) {
        const score = r.scores[insp.settings.score][k];
        const entry: (typeof results)[number] = {
          file: part[k].file,
          score,
          verdict: score >= thr ? 'defective' : 'good',
        };
        if (values.maps) {
          const name = `${path.basename(part[k].file, path.extname(part[k].file))}_map.png`;
          const target = path.join(path.resolve(values.maps), name);
          await writeFileAtomicAsync(
            target,
            await heatmapPng(part[k].px, c, r.maps.subarray(k * h * w, (k + 1) * h * w), scale, h, w),
          );
          entry.map = target;
        }
        results.push(entry);
      }
    }
    results.sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file));
    if (values.csv) {
      const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
      const rows = [
        'file,score,verdict,threshold,error',
        ...results.map((r) =>
          [
            q(r.file),
            Number.isFinite(r.score) ? r.score : '',
            r.error ? 'unreadable' : r.verdict,
            thr,
            q(r.error ?? ''),
          ].join(','),
        ),
      ];
      await writeFileAtomicAsync(path.resolve(values.csv), `${rows.join('\n')}\n`);
    }
    if (values.json) {
      out(
        JSON.stringify({
          run: runId,
          threshold: insp.threshold,
          settings: insp.settings,
          measured: insp.measured
            ? {
                imageAuroc: insp.measured.imageAuroc,
                pixelAuroc: insp.measured.pixelAuroc,
                dataset: insp.measured.dataset,
              }
            : undefined,
          results,
        }),
      );
      return 0;
    }
    for (const line of describeInspection(insp).slice(0, 2)) out(line);
    if (insp.measured && insp.measured.imageAuroc < 0.7)
      out(`Note: measured image ROC AUC ${fix(insp.measured.imageAuroc)} — weak; treat the verdicts as hints.`);
    for (const r of results)
      out(
        r.error
          ? `${r.file}: unreadable (${r.error})`
          : `${r.verdict === 'defective' ? 'DEFECTIVE' : 'good     '}  ${fix(r.score, 4).padStart(9)}  ${r.file}`,
      );
    const bad = results.filter((r) => r.verdict === 'defective' && !r.error).length;
    out(
      `${bad} of ${results.length} picture(s) above the threshold ${fix(thr, 4)}${values.maps ? `; maps in ${path.resolve(values.maps)}` : ''}${values.csv ? `; CSV ${path.resolve(values.csv)}` : ''}`,
    );
    return 0;
  } finally {
    trained.dispose();
  }
}
