// Tiled scoring of a big photograph, with its map (engine/inspect/tiles.ts): the studio's inspection
// preset for 64×64 RGB (inspectionPreset, RANDOM weights: the time does not depend on them, the
// maps would), its default map settings (squared error, σ = 2, top 1 %) normalised by per-pixel
// statistics, scores a SIDE×SIDE picture REPEATS times at overlap 0.5 (the default) and 0, and
// prints the median seconds (wall clock, and the process's CPU time) and the RSS after each repeat
// (it must not grow): tiled-timing.ts, which bench:inspect shares with a trained model.
//   npm run bench:tiled                       (SIDE=1024 REPEATS=5 MAP=l2)
//   MAP=ssim npm run bench:tiled              (the 1 − SSIM map)
//   QUICK=1 npm run bench:tiled               (a 256×256 picture, 2 repeats: proves it runs)
import os from 'node:os';
import { buildAutoencoder, validateConfig } from '../../src-main/engine';
import { TrainedModel } from '../../src-main/engine/trained-model';
import { inspectionPreset } from '../../src-main/contract/inspection';
import { timeTiled } from './tiled-timing';
import type { MapSettings, NormStats } from '../../src-main/engine/inspect/maps';
import { mulberry32 } from '../../src-main/engine/rng';
import { tf } from '../../src-main/engine/tf';

const quick = process.env.QUICK === '1';
const SIDE = Number(process.env.SIDE ?? (quick ? 256 : 1024));
const REPEATS = Number(process.env.REPEATS ?? (quick ? 2 : 5));
const MAP = process.env.MAP === 'ssim' ? 'ssim' : 'l2';
const T = 64;

const r = validateConfig({ ...inspectionPreset([T, T, 3]), seed: 1 }, { count: 1000, shape: [T, T, 3] });
if (!r.ok) throw new Error(JSON.stringify(r.errors));
const model = new TrainedModel(buildAutoencoder(r.config), r.config, {
  mean: Array(r.config.latentDim).fill(0),
  std: Array(r.config.latentDim).fill(1),
});

// A textured picture (stripes and noise), as uint8 pixels the way a decoded photograph comes.
const rand = mulberry32(7);
const picture = new Uint8Array(SIDE * SIDE * 3);
for (let y = 0; y < SIDE; y++)
  for (let x = 0; x < SIDE; x++)
    for (let k = 0; k < 3; k++)
      picture[(y * SIDE + x) * 3 + k] = Math.round(
        255 * Math.min(1, Math.max(0, 0.5 + 0.3 * Math.sin(0.4 * x + 0.7 * y + k) + 0.2 * (rand() - 0.5))),
      );
// Per-pixel statistics as a calibration would give them (a positive spread that varies over the tile).
const norm: NormStats = { h: T, w: T, mean: new Float32Array(T * T), std: new Float32Array(T * T) };
for (let p = 0; p < T * T; p++) {
  norm.mean[p] = 0.01 + 0.01 * rand();
  norm.std[p] = 0.005 + 0.01 * rand();
}
const settings: MapSettings = { map: MAP, smoothSigma: 2, topkPercent: 1 };

const tensorsBefore = tf.memory().numTensors;
console.log(
  `tiled scoring: ${SIDE}×${SIDE} RGB picture, inspection preset ${T}×${T}×3 (random weights), map ${MAP}, σ 2, top 1 %, normalised; path ${model.inferencePath}; ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(2)}`,
);
timeTiled(model, picture, SIDE, settings, norm, REPEATS);
model.dispose();
const left = tf.memory().numTensors - tensorsBefore;
if (left > 0) throw new Error(`${left} tensors left behind`);
