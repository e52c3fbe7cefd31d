// The Inspect panel's calls through the host and the REAL trainer process for a run trained on
// random crops (config cropSize): 64 px textures stored in a workspace, a conv model on 32 px crops,
// the pictures with a drawn blob left out as the "defects". Calibrate scores the whole 64 px
// validation pictures by tiles (the panel's shape and maps are the pictures', not the crop's), the
// blobs score higher, Try it scores a new 64 px picture whole, and the Gallery's Try it reconstructs
// its centre crop.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../src-main/host';
import type { CallRes, EventName } from '../../src-main/contract';
import { writeDataset } from '../../src-main/datasets/store';
import { mulberry32 } from '../../src-main/engine/rng';
import { createTestSupervisor, runCompleted } from '../helpers/trainer';
import { okResult } from '../helpers/host-results';
import { drawDefect, texture } from '../helpers/defects';

let host: Host;
let workspace: string;
let runId: string;
const events: Array<[EventName, unknown]> = [];
const S = 64;
const toU8 = (f: Float32Array) => Uint8Array.from(f, (v) => Math.round(Math.max(0, Math.min(1, v)) * 255));

beforeAll(async () => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-inspect-crops-'));
  host = createHost({ mode: 'serve', version: 'test', trainer: createTestSupervisor(), workspaceDir: workspace });
  host.subscribe((name, payload) => events.push([name, payload]));
  // 80 pictures: every fourth has a solid blob (label 1, left out of training: the "defects")
  const rand = mulberry32(3);
  const n = 80;
  const images = new Uint8Array(n * S * S);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const img = texture('stripes', S, 1, rand);
    if (i % 4 === 3) {
      drawDefect(img, 'blob', S, 1, rand);
      labels[i] = 1;
    }
    images.set(toU8(img), i * S * S);
  }
  const m = await writeDataset(
    workspace,
    'stripes',
    { images, labels, labelNames: ['good', 'blob'], shape: [S, S, 1], count: n },
    { kind: 'import', paths: [] },
  );
  const config = {
    kind: 'conv',
    inputShape: [32, 32, 1],
    cropSize: 32,
    hidden: [8, 16],
    latentDim: 16,
    epochs: 3,
    batchSize: 8,
    validationSplit: 0.3,
    excludeLabels: [1],
  };
  const r = await host.dispatch('runs:start', { config, dataset: { id: m.id } });
  runId = okResult<{ runId: string }>(r).runId;
  await runCompleted(events, runId);
}, 240_000);
afterAll(async () => {
  await host?.dispose();
  fs.rmSync(workspace, { recursive: true, force: true });
});

describe('the Inspect panel on a run trained on random crops', () => {
  it('calibrates and scores whole pictures by tiles, with full-size maps, and tries a new picture whole', async () => {
    const v = okResult<CallRes<'inspect:images'>>(
      await host.dispatch('inspect:calibrate', { runId, count: 6, settings: { map: 'l2', score: 'topk' } }),
    );
    expect(v.shape).toEqual([S, S, 1]);
    expect(v.calibration!.threshold).toMatchObject({ method: 'percentile' });
    expect(v.scores.length).toBe(24); // the validation split: 30 % of 80
    expect(v.defective).toEqual(v.labels.map((l) => l === 1));
    for (const it of v.items) {
      expect(Buffer.from(it.map, 'base64').length).toBe(S * S);
      expect(Buffer.from(it.original, 'base64').length).toBe(S * S);
    }
    const norm = JSON.parse(fs.readFileSync(path.join(workspace, 'runs', runId, 'model', 'inspection.json'), 'utf8'))
      .norm as { h: number; w: number };
    expect([norm.h, norm.w]).toEqual([32, 32]); // the normalisation is a tile's
    const mean = (want: boolean) => {
      const s = v.scores.filter((_, i) => v.defective[i] === want);
      return s.reduce((a, b) => a + b, 0) / s.length;
    };
    console.log(`crops, mean top-1 % score: blobs ${mean(true).toFixed(3)}, good ${mean(false).toFixed(3)}`);
    expect(mean(true)).toBeGreaterThan(mean(false));

    const img = texture('stripes', S, 1, mulberry32(99));
    drawDefect(img, 'blob', S, 1, mulberry32(7));
    const png = await sharp(Buffer.from(toU8(img)), { raw: { width: S, height: S, channels: 1 } })
      .png()
      .toBuffer();
    const tried = okResult<CallRes<'inspect:try'>>(
      await host.dispatch('inspect:try', { runId, files: [{ name: 'blob.png', data: png.toString('base64') }] }),
    );
    const [blob] = tried.results as Array<{ map?: string; size?: number[]; score?: number }>;
    expect(blob.size).toEqual([S, S]);
    expect(Buffer.from(blob.map!, 'base64').length).toBe(S * S);
    expect(Number.isFinite(blob.score)).toBe(true);

    // the Gallery's Try it reconstructs the picture's centre crop, at the dataset's scale
    const g = okResult<CallRes<'gallery:try'>>(
      await host.dispatch('gallery:try', { runId, files: [{ name: 'blob.png', data: png.toString('base64') }] }),
    );
    expect(g.shape).toEqual([32, 32, 1]);
    const original = Buffer.from(g.results[0].original!, 'base64');
    const centre = toU8(img).filter((_, p) => {
      const [y, x] = [Math.floor(p / S), p % S];
      return y >= 16 && y < 48 && x >= 16 && x < 48;
    });
    expect(Buffer.from(original).equals(Buffer.from(centre))).toBe(true);
  }, 240_000);
});
