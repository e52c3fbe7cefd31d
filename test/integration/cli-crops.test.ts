// Random-crop training from a terminal, end to end with the built CLI and the real trainer process:
// an MVTec-shaped set of 256 px textures with drawn defects (real PNG files) → `import --size 256`
// → `train --preset inspection` (64 px crops for pictures of 256 px; calibrated on whole pictures
// by tiles) → `inspect` of the original pictures (full-size maps, no --tile needed) → `evaluate
// --json` on the test set; `--crop` bigger than the pictures, and generating from a crop run, are
// refused in plain words, writing nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, buildMain, runBuiltCli } from '../helpers/built-cli';
import { writeInspectionSet } from '../helpers/defects';

let work: string;
let ws: string;
let set: string;

const cli = (...args: string[]) => runBuiltCli(work, ...args);

beforeAll(async () => {
  buildMain();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-cli-crops-'));
  ws = path.join(work, 'ws');
  set = path.join(work, 'fabric');
  await writeInspectionSet(set, {
    texture: 'weave',
    size: 256,
    channels: 1,
    train: 30,
    testGood: 2,
    perDefect: 1,
    defects: ['blob', 'scratch'],
    seed: 11,
  });
}, 120_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('training on random crops from the CLI', () => {
  it('trains 64 px crops of 256 px pictures, then inspects the original pictures with full-size maps', async () => {
    const imp = await cli('import', set, '--workspace', ws, '--name', 'Fabric', '--size', '256', '--json');
    expect(imp.code, imp.stderr).toBe(0);
    const { dataset } = jsonLines(imp.stdout).at(-1) as { dataset: string };

    // a crop bigger than the pictures: refused in plain words, no run written
    const bad = await cli('train', '--workspace', ws, '--dataset', dataset, '--preset', 'inspection', '--crop', '300');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--crop must be a whole number of pixels from 8 to 256/);
    expect(fs.existsSync(path.join(ws, 'runs')) ? fs.readdirSync(path.join(ws, 'runs')) : []).toEqual([]);

    fs.writeFileSync(
      path.join(work, 'short.json'),
      JSON.stringify({ epochs: 3, earlyStoppingPatience: 0, batchSize: 8, latentDim: 32, seed: 3 }),
    );
    const tr = await cli(
      'train',
      '--workspace',
      ws,
      '--dataset',
      dataset,
      '--preset',
      'inspection',
      '--config',
      path.join(work, 'short.json'),
      '--json',
    );
    expect(tr.code, tr.stderr).toBe(0);
    const lines = jsonLines(tr.stdout);
    expect((lines.find((l) => l.type === 'step') as { step: string }).step).toBe('graph');
    const end = lines.at(-1) as { runId: string; status: string; message: string };
    expect(end.status).toBe('completed');
    expect(end.message).toMatch(/Calibrated for inspection/);
    const runId = end.runId;
    const cfg = JSON.parse(fs.readFileSync(path.join(ws, 'runs', runId, 'model', 'config.json'), 'utf8')) as {
      cropSize: number;
      inputShape: number[];
    };
    expect(cfg.cropSize).toBe(64);
    expect(cfg.inputShape).toEqual([64, 64, 1]);
    // the run's config, as the workspace keeps it, and the runs list say it trained on crops
    const run = JSON.parse(fs.readFileSync(path.join(ws, 'runs', runId, 'run.json'), 'utf8')) as {
      config: { cropSize: number };
    };
    expect(run.config.cropSize).toBe(64);
    const list = await cli('runs', '--workspace', ws);
    expect(list.stdout).toMatch(/conv, 32-d code, 64-px crops/);

    // calibrated on tiles: the normalisation is a tile's, the threshold and measures whole pictures'
    const insp = JSON.parse(fs.readFileSync(path.join(ws, 'runs', runId, 'model', 'inspection.json'), 'utf8')) as {
      norm: { h: number; w: number };
      threshold: { value: number; method: string };
      measured: { imageAuroc: number; pixelAuroc: number };
    };
    expect([insp.norm.h, insp.norm.w]).toEqual([64, 64]);
    expect(insp.threshold.method).toBe('f1');
    expect(insp.measured.pixelAuroc).toBeGreaterThanOrEqual(0);

    // the original 256 px pictures, scored whole: full-size maps without --tile
    const pictures = [
      path.join(set, 'test', 'good', '000.png'),
      path.join(set, 'test', 'blob', '000.png'),
      path.join(set, 'test', 'scratch', '000.png'),
    ];
    const maps = path.join(work, 'maps');
    const r = await cli('inspect', '--workspace', ws, '--run', runId, ...pictures, '--maps', maps, '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { results: Array<{ file: string; score: number; map: string }> };
    expect(out.results.map((x) => x.file)).toEqual(pictures);
    for (const x of out.results) {
      expect(Number.isFinite(x.score)).toBe(true);
      const meta = await sharp(x.map).metadata();
      expect([meta.width, meta.height]).toEqual([256, 256]);
    }
    // the blob (a solid patch) scores above the good picture
    expect(out.results[1].score).toBeGreaterThan(out.results[0].score);

    // evaluate on the test set measures the whole pictures the way calibration did
    const ev = await cli('evaluate', '--workspace', ws, '--run', runId, '--dataset', 'Fabric (test)', '--json');
    expect(ev.code, ev.stderr).toBe(0);
    const e = JSON.parse(ev.stdout) as Record<string, number>;
    expect(Math.abs(e.imageAuroc - insp.measured.imageAuroc)).toBeLessThan(1e-6);
    expect(Math.abs(e.pixelAuroc - insp.measured.pixelAuroc)).toBeLessThan(1e-6);

    // generating from a crop run is refused in plain words, writing nothing
    const gen = await cli(
      'generate',
      '--workspace',
      ws,
      '--run',
      runId,
      '--count',
      '4',
      '--out',
      path.join(work, 'gen'),
    );
    expect(gen.code).toBe(1);
    expect(gen.stderr).toMatch(/trained on random 64-px crops of bigger pictures/);
    expect(fs.existsSync(path.join(work, 'gen'))).toBe(false);
  }, 600_000);
});
