// Visual inspection from a terminal, end to end with the built CLI and the real trainer process:
// an MVTec-shaped set made offline (textures with drawn scratches, blobs and smudges, exact masks)
// → `import` → `train --preset inspection` (calibrated after training: model/inspection.json) →
// `inspect` (scores, verdicts, map PNGs, CSV, JSON) → `evaluate --json` (imageAuroc, imageAupr,
// f1Max, pixelAuroc, aupro) — and the refusal of a threshold file from another run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJson, buildMain, runBuiltCli } from '../helpers/built-cli';
import { texture, writeInspectionSet } from '../helpers/defects';
import { mulberry32 } from '../../src-main/engine/rng';

let work: string;
let ws: string;
let set: string;
let runId: string;

const cli = (...args: string[]) => runBuiltCli(work, ...args);

beforeAll(async () => {
  buildMain();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-cli-inspect-'));
  ws = path.join(work, 'ws');
  set = path.join(work, 'fabric');
  await writeInspectionSet(set, {
    texture: 'weave',
    size: 32,
    channels: 1,
    train: 60,
    testGood: 6,
    perDefect: 3,
    seed: 11,
  });
}, 120_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('ae-studio inspect', () => {
  it('imports, trains with --preset inspection, calibrates, and measures on the test set', async () => {
    const imp = await cli('import', set, '--workspace', ws, '--name', 'Fabric', '--size', '32', '--json');
    expect(imp.code, imp.stderr).toBe(0);
    const { dataset } = lastJson(imp.stdout) as { dataset: string };
    fs.writeFileSync(
      path.join(work, 'short.json'),
      JSON.stringify({ epochs: 4, earlyStoppingPatience: 0, latentDim: 32, seed: 3 }),
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
    const lines = tr.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const step = lines.find((l) => l.type === 'step') as { step: string; reason: string };
    expect(step.step).toBe('graph'); // the preset trains with L2: the fast graph step
    const end = lines.at(-1) as {
      runId: string;
      status: string;
      message: string;
      inspection: {
        threshold: { method: string; value: number };
        measured: Record<string, unknown> & { perType: Array<{ name: string }> };
      };
    };
    expect(end.status).toBe('completed');
    // the trainer calibrated the run on its inspection set as it completed, and said so
    expect(end.message).toMatch(
      /Calibrated for inspection: threshold [\d.-]+ \(F1-adaptive on the test set\), image ROC AUC/,
    );
    runId = end.runId;
    const cfg = JSON.parse(fs.readFileSync(path.join(ws, 'runs', runId, 'model', 'config.json'), 'utf8')) as {
      loss: string;
      kind: string;
      epochs: number;
    };
    expect(cfg).toMatchObject({ kind: 'conv', loss: 'mse', epochs: 4 });
    expect(end.inspection.threshold.method).toBe('f1');
    const m = end.inspection.measured;
    console.log(`measured after 4 epochs: ${JSON.stringify({ ...m, perType: undefined })}`);
    expect(m.perType.map((t) => t.name)).toEqual(['blob', 'scratch', 'smudge']);
    for (const k of ['imageAuroc', 'imageAupr', 'f1Max', 'pixelAuroc', 'aupro']) {
      expect(m[k], k).toBeGreaterThanOrEqual(0);
      expect(m[k], k).toBeLessThanOrEqual(1);
    }
    const file = JSON.parse(fs.readFileSync(path.join(ws, 'runs', runId, 'model', 'inspection.json'), 'utf8')) as {
      run: string;
      norm: { h: number; mean: number[] };
    };
    expect(file.run).toBe(runId);
    expect(file.norm.h).toBe(32);
    expect(file.norm.mean).toHaveLength(32 * 32);

    // evaluate --json on the test set: the same numbers as the calibration measured
    const ev = await cli('evaluate', '--workspace', ws, '--run', runId, '--dataset', 'Fabric (test)', '--json');
    expect(ev.code, ev.stderr).toBe(0);
    const e = JSON.parse(ev.stdout) as Record<string, number>;
    for (const k of ['imageAuroc', 'imageAupr', 'f1Max', 'pixelAuroc', 'aupro'])
      expect(Math.abs(e[k] - (m[k] as number)), k).toBeLessThan(1e-6);
  }, 600_000);

  it('scores pictures with verdicts against the threshold, writes map PNGs and a CSV, exit 0', async () => {
    const maps = path.join(work, 'maps');
    const csv = path.join(work, 'verdicts.csv');
    const r = await cli(
      'inspect',
      '--workspace',
      ws,
      '--run',
      runId,
      path.join(set, 'test', 'good'),
      path.join(set, 'test', 'blob'),
      '--maps',
      maps,
      '--csv',
      csv,
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      threshold: { value: number };
      results: Array<{ file: string; score: number; verdict: string; map: string }>;
    };
    expect(out.results).toHaveLength(9);
    for (const x of out.results) {
      expect(x.verdict).toBe(x.score >= out.threshold.value ? 'defective' : 'good');
      const meta = await sharp(x.map).metadata();
      expect([meta.width, meta.height, meta.channels]).toEqual([32, 32, 3]);
    }
    const rows = fs.readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('file,score,verdict,threshold,error');
    expect(rows).toHaveLength(10);
    // the plain-text form
    const text = await cli('inspect', '--workspace', ws, '--run', runId, path.join(set, 'test', 'scratch', '000.png'));
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/Threshold [\d.-]+ \(F1-adaptive/);
    expect(text.stdout).toMatch(/(DEFECTIVE|good)\s+[\d.-]+\s+.*000\.png/);
  }, 300_000);

  it('--tile scores a picture bigger than the model at its own resolution, with a full-size map', async () => {
    const rand = mulberry32(5);
    const big = texture('weave', 80, 1, rand).subarray(0, 56 * 80);
    const file = path.join(work, 'big.png');
    await sharp(Buffer.from(Uint8Array.from(big, (v) => Math.round(v * 255))), {
      raw: { width: 80, height: 56, channels: 1 },
    })
      .png()
      .toFile(file);
    const maps = path.join(work, 'maps-big');
    const r = await cli(
      'inspect',
      '--workspace',
      ws,
      '--run',
      runId,
      file,
      '--tile',
      '--overlap',
      '0.5',
      '--maps',
      maps,
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { results: Array<{ score: number; verdict: string; map: string }> };
    expect(out.results).toHaveLength(1);
    expect(Number.isFinite(out.results[0].score)).toBe(true);
    const meta = await sharp(out.results[0].map).metadata();
    expect([meta.width, meta.height]).toEqual([80, 56]);
  }, 300_000);

  it('the threshold and the normalisation travel with the TF.js and Keras exports', async () => {
    const own = JSON.parse(fs.readFileSync(path.join(ws, 'runs', runId, 'model', 'inspection.json'), 'utf8')) as {
      threshold: unknown;
      settings: unknown;
      norm: { mean: number[] };
    };
    const tfjsOut = path.join(work, 'tfjs');
    let r = await cli('export', '--workspace', ws, '--run', runId, '--format', 'tfjs', '--out', tfjsOut);
    expect(r.code, r.stderr).toBe(0);
    const studio = JSON.parse(fs.readFileSync(path.join(tfjsOut, 'studio.json'), 'utf8')) as {
      inspection: { run: string; threshold: unknown; settings: unknown; norm: { mean: number[] } };
    };
    expect(studio.inspection.run).toBe(runId);
    expect(studio.inspection.threshold).toEqual(own.threshold);
    expect(studio.inspection.settings).toEqual(own.settings);
    expect(studio.inspection.norm.mean).toEqual(own.norm.mean);
    const kerasOut = path.join(work, 'inspector.keras');
    r = await cli('export', '--workspace', ws, '--run', runId, '--format', 'keras', '--out', kerasOut);
    expect(r.code, r.stderr).toBe(0);
    const meta = JSON.parse(
      new TextDecoder().decode(unzipSync(new Uint8Array(fs.readFileSync(kerasOut)))['metadata.json']),
    ) as {
      keras_version: string;
      autoencoder_studio_inspection: { threshold: unknown };
    };
    expect(meta.keras_version).toBeTruthy();
    expect(meta.autoencoder_studio_inspection.threshold).toEqual(own.threshold);
  }, 300_000);

  it('refuses a threshold file from another run or other weights, writing nothing', async () => {
    const file = path.join(ws, 'runs', runId, 'model', 'inspection.json');
    const original = fs.readFileSync(file, 'utf8');
    try {
      fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(original), run: 'another-run' }));
      const maps = path.join(work, 'maps-refused');
      let r = await cli('inspect', '--workspace', ws, '--run', runId, path.join(set, 'test', 'good'), '--maps', maps);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/belongs to run 'another-run'/);
      expect(fs.existsSync(maps)).toBe(false);
      fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(original), model: '0'.repeat(64) }));
      r = await cli('inspect', '--workspace', ws, '--run', runId, path.join(set, 'test', 'good'), '--maps', maps);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/other weights/);
      expect(fs.existsSync(maps)).toBe(false);
    } finally {
      fs.writeFileSync(file, original);
    }
  }, 300_000);
});
