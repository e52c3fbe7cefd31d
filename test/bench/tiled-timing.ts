// The timing of tiled scoring that bench:tiled and bench:inspect share (issue 28 item 3): one picture
// scored with its map by overlapping tiles, after one warm-up call (which records the inference
// graph's batch sizes), `repeats` times at each overlap; one RESULT line per overlap with the median
// wall-clock seconds, the median CPU seconds of the process (on a busy machine the wall clock also
// measures the other jobs; CPU time ÷ cores is about what a quiet machine takes) and the RSS after
// each repeat (it must not grow with the number of pictures).
import os from 'node:os';
import type { TrainedModel } from '../../src-main/engine/trained-model';
import { inspectTiled } from '../../src-main/engine/inspect/tiles';
import type { MapSettings, NormStats } from '../../src-main/engine/inspect/maps';

export interface TiledTiming {
  side: number;
  overlap: number;
  tiles: number;
  tileSize: number;
  map: string;
  normalised: boolean;
  medianSec: number;
  secs: number[];
  medianCpuSec: number;
  rssMb: number[];
  load: number;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

export function timeTiled(
  model: TrainedModel,
  picture: Uint8Array,
  side: number,
  settings: MapSettings,
  norm: NormStats | undefined,
  repeats = 5,
  overlaps: readonly number[] = [0.5, 0],
): TiledTiming[] {
  const out: TiledTiming[] = [];
  for (const overlap of overlaps) {
    inspectTiled(model, picture, side, side, settings, norm, overlap);
    const secs: number[] = [];
    const cpu: number[] = [];
    const rss: number[] = [];
    let tiles = 0;
    for (let i = 0; i < repeats; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      tiles = inspectTiled(model, picture, side, side, settings, norm, overlap).tiles;
      secs.push((performance.now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1e6);
      rss.push(Math.round(process.memoryUsage().rss / 2 ** 20));
    }
    const r: TiledTiming = {
      side,
      overlap,
      tiles,
      tileSize: model.config.inputShape[0],
      map: settings.map,
      normalised: norm !== undefined,
      medianSec: +median(secs).toFixed(3),
      secs: secs.map((s) => +s.toFixed(3)),
      medianCpuSec: +median(cpu).toFixed(3),
      rssMb: rss,
      load: +os.loadavg()[0].toFixed(2),
    };
    console.log(`RESULT ${JSON.stringify({ tiled: `${side}x${side}`, ...r })}`);
    out.push(r);
  }
  return out;
}
