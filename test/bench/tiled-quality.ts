// `npm run bench:tiled-quality`: what the tile overlap changes in what tiled inspection finds.
//
// For each procedural texture (test/helpers/defects.ts) the inspection preset (L2) is trained on
// random 64×64 crops of big good pictures (the scale the tiles will see), the normalisation is
// measured on held-out good crops, and SIDE×SIDE test pictures — good ones, and ones with one defect
// (scratch, blob or smudge, drawn at the tiles' scale at a random place, its mask exactly the pixels
// drawn) — are scored by overlapping tiles at each overlap, with the studio's default map settings
// (squared error, σ = 2, normalised, top 1 %). Reported per texture, seed and overlap: image ROC AUC
// (top-1 % score), pixel ROC AUC and AUPRO of the stitched maps, and the tiles per picture.
//   npm run bench:tiled-quality                 (3 textures, 2 seeds, 60 epochs, 256×256 test pictures)
//   QUICK=1 npm run bench:tiled-quality         (1 texture, 1 seed, 3 epochs: proves it runs)
//   EPOCHS, SEEDS, SIDE, OVERLAPS="0 0.25 0.5 0.75" change the sitting.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trainRun } from '../../src-main/engine/train';
import { loadTrained } from '../../src-main/engine/trained-model';
import { inspectionPreset } from '../../src-main/contract/inspection';
import { fitNormStats, inspectionMetrics, inspectTiled, type MapSettings } from '../../src-main/engine/inspect';
import { mulberry32 } from '../../src-main/engine/rng';
import { DEFECTS, TEXTURES, drawDefect, texture as textureOf, type Texture } from '../helpers/defects';

const quick = process.env.QUICK === '1';
const T = 64;
const SIDE = Number(process.env.SIDE ?? 256);
const EPOCHS = Number(process.env.EPOCHS ?? (quick ? 3 : 60));
const SEEDS = Array.from({ length: Number(process.env.SEEDS ?? (quick ? 1 : 2)) }, (_, i) => i + 1);
const OVERLAPS = (process.env.OVERLAPS ?? '0 0.25 0.5 0.75').split(/[\s,]+/).map(Number);
const textures: readonly Texture[] = quick ? ['weave'] : TEXTURES;
const TRAIN = 150;
const GOOD = quick ? 4 : 20;
const PER_DEFECT = quick ? 2 : 10;
const settings: MapSettings = { map: 'l2', smoothSigma: 2, topkPercent: 1 };

/** `n` random t×t crops of big good pictures (a new picture every 10 crops), as uint8. */
function crops(kind: Texture, n: number, rand: () => number): Uint8Array {
  const out = new Uint8Array(n * T * T * 3);
  let big: Float32Array = new Float32Array(0);
  for (let i = 0; i < n; i++) {
    if (i % 10 === 0) big = textureOf(kind, SIDE, 3, rand);
    const y0 = Math.floor(rand() * (SIDE - T + 1));
    const x0 = Math.floor(rand() * (SIDE - T + 1));
    for (let y = 0; y < T; y++)
      for (let x = 0; x < T * 3; x++)
        out[(i * T + y) * T * 3 + x] = Math.round(big[((y0 + y) * SIDE + x0) * 3 + x] * 255);
  }
  return out;
}

/** A big test picture, with one defect of `kind` drawn at the tiles' scale somewhere in it (or none). */
function testPicture(kind: Texture, defect: (typeof DEFECTS)[number] | undefined, rand: () => number) {
  const big = textureOf(kind, SIDE, 3, rand);
  const mask = new Uint8Array(SIDE * SIDE);
  if (defect) {
    const y0 = Math.floor(rand() * (SIDE - T + 1));
    const x0 = Math.floor(rand() * (SIDE - T + 1));
    const patch = new Float32Array(T * T * 3);
    for (let y = 0; y < T; y++)
      patch.set(big.subarray(((y0 + y) * SIDE + x0) * 3, ((y0 + y) * SIDE + x0 + T) * 3), y * T * 3);
    const m = drawDefect(patch, defect, T, 3, rand);
    for (let y = 0; y < T; y++) {
      big.set(patch.subarray(y * T * 3, (y + 1) * T * 3), ((y0 + y) * SIDE + x0) * 3);
      for (let x = 0; x < T; x++) mask[(y0 + y) * SIDE + x0 + x] = m[y * T + x] ? 255 : 0;
    }
  }
  return { px: Uint8Array.from(big, (v) => Math.round(v * 255)), mask };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-bench-tiled-quality-'));
const rows: Array<{
  texture: string;
  seed: number;
  overlap: number;
  tiles: number;
  imageAuroc: number;
  pixelAuroc: number;
  aupro: number;
}> = [];
try {
  for (const kind of textures) {
    for (const seed of SEEDS) {
      const rand = mulberry32(1000 * seed + TEXTURES.indexOf(kind));
      const train = crops(kind, TRAIN, rand);
      const runDir = path.join(tmp, `${kind}-${seed}`);
      const started = Date.now();
      const r = await trainRun({
        config: { ...inspectionPreset([T, T, 3]), epochs: EPOCHS, seed, earlyStoppingPatience: 0 },
        dataset: { images: train, labels: new Int32Array(TRAIN), count: TRAIN, shape: [T, T, 3] },
        runDir,
      });
      if (r.status !== 'completed') throw new Error(`${kind} seed ${seed}: ${r.status} ${r.message ?? ''}`);
      const model = await loadTrained(runDir);
      try {
        const norm = fitNormStats(model, crops(kind, 40, rand), settings);
        const pics = [
          ...Array.from({ length: GOOD }, () => ({ label: 0, ...testPicture(kind, undefined, rand) })),
          ...DEFECTS.flatMap((d, k) =>
            Array.from({ length: PER_DEFECT }, () => ({ label: k + 1, ...testPicture(kind, d, rand) })),
          ),
        ];
        const masks = new Uint8Array(pics.length * SIDE * SIDE);
        pics.forEach((p, i) => masks.set(p.mask, i * SIDE * SIDE));
        for (const overlap of OVERLAPS) {
          const maps = new Float32Array(pics.length * SIDE * SIDE);
          const scores: number[] = [];
          let tiles = 0;
          pics.forEach((p, i) => {
            const t = inspectTiled(model, p.px, SIDE, SIDE, settings, norm, overlap);
            maps.set(t.map, i * SIDE * SIDE);
            scores.push(t.scores.topk);
            tiles = t.tiles;
          });
          const m = inspectionMetrics({
            scores,
            labels: pics.map((p) => p.label),
            goodLabel: 0,
            labelNames: ['good', ...DEFECTS],
            maps,
            masks,
            h: SIDE,
            w: SIDE,
          });
          const row = {
            texture: kind,
            seed,
            overlap,
            tiles,
            imageAuroc: +m.imageAuroc.toFixed(4),
            pixelAuroc: +(m.pixelAuroc ?? NaN).toFixed(4),
            aupro: +(m.aupro ?? NaN).toFixed(4),
          };
          rows.push(row);
          console.log(`RESULT ${JSON.stringify(row)}`);
        }
      } finally {
        model.dispose();
      }
      console.log(
        `(${kind} seed ${seed}: trained ${EPOCHS} epochs and scored in ${((Date.now() - started) / 1000).toFixed(0)} s)`,
      );
    }
  }
  console.log(
    `\n${'overlap'.padEnd(9)}${'tiles'.padStart(7)}${'image AUROC'.padStart(13)}${'pixel AUROC'.padStart(13)}${'AUPRO'.padStart(9)}   (mean over textures and seeds)`,
  );
  for (const overlap of OVERLAPS) {
    const rs = rows.filter((r) => r.overlap === overlap);
    const mean = (k: 'imageAuroc' | 'pixelAuroc' | 'aupro') => rs.reduce((s, r) => s + r[k], 0) / rs.length;
    console.log(
      `${String(overlap).padEnd(9)}${String(rs[0].tiles).padStart(7)}${mean('imageAuroc').toFixed(3).padStart(13)}${mean('pixelAuroc').toFixed(3).padStart(13)}${mean('aupro').toFixed(3).padStart(9)}`,
    );
    console.log(
      `SUMMARY ${JSON.stringify({ overlap, tiles: rs[0].tiles, imageAuroc: mean('imageAuroc'), pixelAuroc: mean('pixelAuroc'), aupro: mean('aupro'), runs: rs.length })}`,
    );
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
