// The ONNX export of an inspection run (a model with model/inspection.json) computes the studio's
// anomaly map and image score inside the graph: onnxruntime (test venv, test/helpers/pyenv.ts) runs
// the exported file on textured pictures and its `anomaly_map` [N,H,W] and `score` [N] must match
// the studio's own (engine/inspect: inspectImages with the same settings and normalisation) — for
// 1 − SSIM maps smoothed, normalised and scored by the top-k mean, and for squared-error maps scored
// by the max and by the mean — with the threshold in the model's metadata_props, and the Export
// view's snippet for it prints each picture's verdict. An encoder export of the same run gains nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAutoencoder, TrainedModel, validateConfig } from '../../src-main/engine';
import { fitNormStats, inspectImages, type InspectionFile } from '../../src-main/engine/inspect';
import { exportModel } from '../../src-main/formats';
import { exportSnippet } from '../../src-main/contract';
import { ensurePyEnv, runPython, type PyEnv } from '../helpers/pyenv';
import { readNpy, writeNpy } from '../helpers/npy';
import { texture } from '../helpers/defects';
import { mulberry32 } from '../../src-main/engine/rng';

const here = path.dirname(fileURLToPath(import.meta.url));
let env: PyEnv;
let work: string;

beforeAll(() => {
  env = ensurePyEnv();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-onnx-inspect-'));
}, 900_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const S = 24;
const pictures = (n: number, seed: number) => {
  const rand = mulberry32(seed);
  const out = new Uint8Array(n * S * S * 3);
  for (let i = 0; i < n; i++)
    out.set(
      Uint8Array.from(texture('weave', S, 3, rand), (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)),
      i * S * S * 3,
    );
  return out;
};

describe('ONNX export of an inspector', () => {
  it('computes anomaly_map and score in the graph as the studio does, with the threshold in its metadata', () => {
    const checked = validateConfig(
      { kind: 'conv', inputShape: [S, S, 3], latentDim: 16, hidden: [8, 16], epochs: 1, batchSize: 8 },
      { count: 100, shape: [S, S, 3] },
    );
    if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
    const model = new TrainedModel(buildAutoencoder(checked.config), checked.config, { mean: [], std: [] } as never);
    return (async () => {
      try {
        const good = pictures(10, 1);
        const probe = pictures(6, 2);
        const x = Float32Array.from(probe, (v) => v / 255);
        writeNpy(path.join(work, 'x.npy'), x, [6, S, S, 3]);
        const cases = [
          {
            name: 'ssim-topk',
            settings: { map: 'ssim', smoothSigma: 2, topkPercent: 2, score: 'topk' },
            normalise: true,
          },
          { name: 'l2-max', settings: { map: 'l2', smoothSigma: 0, topkPercent: 1, score: 'max' }, normalise: false },
          { name: 'l2-mean', settings: { map: 'l2', smoothSigma: 1, topkPercent: 1, score: 'mean' }, normalise: true },
        ] as const;
        const jobs: Array<{ model: string; input: string; prefix: string }> = [];
        const want = new Map<
          string,
          { maps: Float32Array; scores: Float64Array; threshold: number; settings: object }
        >();
        for (const c of cases) {
          const norm = c.normalise ? fitNormStats(model, good, c.settings) : undefined;
          const res = inspectImages(model, probe, c.settings, norm);
          // half-way between two scores, so that no picture sits on it
          const sorted = Array.from(res.scores[c.settings.score]).sort((a, b) => a - b);
          const threshold = (sorted[2] + sorted[3]) / 2;
          model.inspection = {
            format: 'ae-studio-inspection',
            version: 1,
            run: 'run-x',
            model: 'x',
            settings: { ...c.settings },
            norm: norm ? { h: S, w: S, mean: Array.from(norm.mean), std: Array.from(norm.std) } : null,
            threshold: { value: threshold, method: 'percentile', percentile: 99 },
            goodValidation: 10,
            createdAt: new Date(0).toISOString(),
          } satisfies InspectionFile;
          const out = path.join(work, `${c.name}.onnx`);
          expect((await exportModel(model, { format: 'onnx', part: 'full', out })).inspector).toBe(true);
          jobs.push({ model: out, input: path.join(work, 'x.npy'), prefix: path.join(work, c.name) });
          want.set(path.join(work, c.name), {
            maps: res.maps,
            scores: res.scores[c.settings.score],
            threshold,
            settings: c.settings,
          });
        }
        expect(
          (await exportModel(model, { format: 'onnx', part: 'encoder', out: path.join(work, 'encoder.onnx') }))
            .inspector,
        ).toBeUndefined();
        jobs.push({
          model: path.join(work, 'encoder.onnx'),
          input: path.join(work, 'x.npy'),
          prefix: path.join(work, 'encoder'),
        });
        fs.writeFileSync(path.join(work, 'jobs.json'), JSON.stringify(jobs));
        const stdout = runPython(env, path.join(here, 'py', 'run_inspection_onnx.py'), [path.join(work, 'jobs.json')]);
        const report = JSON.parse(
          stdout
            .split('\n')
            .find((l) => l.startsWith('RESULT '))!
            .slice(7),
        ) as { models: Record<string, { outputs: string[]; meta: Record<string, string> }> };

        const rec = model.reconstruct(x);
        for (const [prefix, w] of want) {
          const r = report.models[prefix];
          expect(r.outputs.slice(1)).toEqual(['anomaly_map', 'score']);
          expect(Number(r.meta.autoencoder_studio_threshold)).toBe(w.threshold);
          expect(JSON.parse(r.meta.autoencoder_studio_inspection).settings).toEqual(w.settings);
          const recOnnx = readNpy(`${prefix}-${r.outputs[0]}.npy`);
          let d = 0;
          for (let i = 0; i < rec.length; i++) d = Math.max(d, Math.abs(rec[i] - recOnnx.data[i]));
          expect(d).toBeLessThan(1e-4);
          const map = readNpy(`${prefix}-anomaly_map.npy`);
          expect(map.shape).toEqual([6, S, S]);
          let scale = 0;
          let dm = 0;
          for (let i = 0; i < w.maps.length; i++) {
            scale = Math.max(scale, Math.abs(w.maps[i]));
            dm = Math.max(dm, Math.abs(w.maps[i] - map.data[i]));
          }
          expect(dm / scale, `${prefix}: map`).toBeLessThan(1e-3);
          const score = readNpy(`${prefix}-score.npy`);
          expect(score.shape).toEqual([6]);
          // to 1e-3 of the scores' scale (a normalised score near 0 has no meaningful relative error)
          const scoreScale = Math.max(1e-6, ...Array.from(w.scores, Math.abs));
          for (let i = 0; i < 6; i++)
            expect(Math.abs(score.data[i] - w.scores[i]) / scoreScale, `${prefix}: score ${i}`).toBeLessThan(1e-3);
          // the verdicts agree: score ≥ threshold = defective
          for (let i = 0; i < 6; i++) expect(score.data[i] >= w.threshold).toBe(w.scores[i] >= w.threshold);
        }
        expect(report.models[path.join(work, 'encoder')].outputs).not.toContain('anomaly_map');
        expect(report.models[path.join(work, 'encoder')].meta).toEqual({});

        // the Export view's snippet for it runs as written and prints a verdict against the threshold in the file
        const snippet = exportSnippet({
          format: 'onnx',
          part: 'full',
          fileName: path.join(work, 'ssim-topk.onnx'),
          inputShape: [S, S, 3],
          latentDim: 16,
          vae: false,
          inspector: true,
        });
        fs.writeFileSync(path.join(work, 'snippet.py'), snippet.code);
        const printed = runPython(env, path.join(work, 'snippet.py'), []).trim();
        const thr = want.get(path.join(work, 'ssim-topk'))!.threshold;
        expect(printed).toMatch(
          new RegExp(`^(defective|good) score -?[\\d.]+ threshold ${thr.toFixed(4).replace('.', '\\.')}$`),
        );
      } finally {
        model.dispose();
      }
    })();
  }, 600_000);
});
