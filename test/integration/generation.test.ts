// Generation measured and used, end to end: a dense VAE and a plain dense autoencoder trained on
// built-in MNIST by the REAL trainer process (through the host), then the real CLI:
// `ae-studio evaluate --generation` (the feature classifier trained once and cached, every sampler
// against the real-data floor), the same Fréchet distance and precision/recall recomputed by an
// independent implementation in Python (scipy.linalg.sqrtm, scipy's cdist) on the very same
// features, and `ae-studio generate` — PNG files, the sampler the run remembers, more images of one
// label into a new dataset and into an existing one (marked as generated, and recognised as that
// label by the classifier), a TF.js decoder export carrying the chosen sampler with a sample.js
// that draws new images (Keras and ONNX exports: the sampler in their metadata), and bad arguments that write nothing; then the Gallery's samplers side
// by side (`gallery:samplers`) through the host.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../src-main/host';
import type { EventName, GallerySamplers } from '../../src-main/contract';
import { createTestSupervisor, repoRoot, runCompleted } from '../helpers/trainer';
import { okResult } from '../helpers/host-results';
import { ensurePyEnv, runPython, SCIPY_REQUIREMENTS } from '../helpers/pyenv';
import { unzipSync } from 'fflate';
import { onnxMetadata } from '../../src-main/formats';
import { writeNpy } from '../helpers/npy';
import { runCli } from '../helpers/cli';
import { makeBuiltin } from '../../src-main/datasets/builtins';
import { findDatasetId, loadDataset } from '../../src-main/datasets/store';
import { loadTrained } from '../../src-main/engine/trained-model';
import {
  decodeCodes,
  drawCodes,
  featureGaussian,
  featureNetFor,
  fitSampler,
  codesOfRows,
  frechetDistance,
  precisionRecall,
  runSplit,
} from '../../src-main/engine/generation';

let host: Host;
let ws: string;
let vae: string;
let ae: string;
const events: Array<[EventName, unknown]> = [];
const FEATURE_IMAGES = '2000';

async function train(config: Record<string, unknown>): Promise<string> {
  const r = await host.dispatch('runs:start', { config, dataset: { builtin: 'mnist', count: 3000 } });
  return okResult<{ runId: string }>(r).runId;
}

function finished(runId: string): Promise<void> {
  return runCompleted(events, runId, 240_000);
}

beforeAll(async () => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-generation-'));
  host = createHost({ mode: 'serve', version: 'test', trainer: createTestSupervisor(), workspaceDir: ws });
  host.subscribe((name, payload) => events.push([name, payload]));
  vae = await train({
    kind: 'vae',
    inputShape: [28, 28, 1],
    latentDim: 8,
    epochs: 6,
    batchSize: 64,
    validationSplit: 0.2,
  });
  await finished(vae);
  ae = await train({
    kind: 'dense',
    inputShape: [28, 28, 1],
    latentDim: 16,
    epochs: 2,
    batchSize: 64,
    validationSplit: 0.2,
  });
  await finished(ae);
}, 400_000);
afterAll(async () => {
  await host?.dispose();
});

const listing = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

describe('ae-studio evaluate --generation', () => {
  it('trains the feature classifier once, caches it, and puts every sampler beside the real-data floor', async () => {
    const r = await runCli(
      'evaluate',
      '--generation',
      '--workspace',
      ws,
      '--run',
      vae,
      '--count',
      '300',
      '--feature-images',
      FEATURE_IMAGES,
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(r.out);
    expect(rep.features.kind).toBe('classifier');
    expect(rep.featuresNote).toMatch(/trained now/);
    expect(rep.count).toBe(300);
    expect(rep.samplers.map((s: { name: string }) => s.name)).toEqual([
      'prior',
      'diagonal',
      'full',
      'gmm',
      'two-stage',
    ]);
    for (const s of [rep.floor, rep.reconstructions, ...rep.samplers.map((x: { scores: unknown }) => x.scores)]) {
      expect(s.frechet).toBeGreaterThanOrEqual(0);
      expect(s.precision).toBeGreaterThanOrEqual(0);
      expect(s.precision).toBeLessThanOrEqual(1);
      expect(s.recall).toBeGreaterThanOrEqual(0);
      expect(s.recall).toBeLessThanOrEqual(1);
    }
    // real held-out digits are the floor: no model output is closer to the real digits than they are
    for (const s of rep.samplers) expect(s.scores.frechet).toBeGreaterThan(rep.floor.frechet);
    expect(rep.reconstructions.frechet).toBeGreaterThan(rep.floor.frechet);
    expect(rep.floor.precision).toBeGreaterThan(0.5);
    expect(fs.existsSync(path.join(ws, 'runs', vae, 'generation', 'report.json'))).toBe(true);
    expect(listing(path.join(ws, 'feature-nets'))).toHaveLength(1);

    // the plain autoencoder: same cached classifier, no prior to sample from
    const t = await runCli(
      'evaluate',
      '--generation',
      '--workspace',
      ws,
      '--run',
      ae,
      '--count',
      '200',
      '--samplers',
      'prior,full',
      '--feature-images',
      FEATURE_IMAGES,
    );
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(/loaded from the workspace cache/);
    expect(t.out).toMatch(/real held-out images \(the floor\)/);
    expect(t.out).toMatch(/prior: VAE prior N\(0, I\)\s+skipped: not a VAE/);
    expect(t.out).toMatch(/full: full-covariance Gaussian\s+\d/);
    expect(listing(path.join(ws, 'feature-nets'))).toHaveLength(1);
  }, 300_000);

  it('gives the same Fréchet distance, precision and recall as scipy/numpy on the same features', async () => {
    const full = makeBuiltin('mnist');
    const { net, trained: fresh } = await featureNetFor(ws, 'mnist', full, { maxImages: Number(FEATURE_IMAGES) });
    expect(fresh).toBe(false);
    const model = await loadTrained(path.join(ws, 'runs', vae));
    try {
      const ds = {
        ...full,
        images: full.images.subarray(0, 3000 * 784),
        labels: full.labels.subarray(0, 3000),
        count: 3000,
      };
      const { train } = runSplit(model, ds);
      const n = 250;
      const rows = train.subarray(0, 2000);
      const sampler = await fitSampler('gmm', codesOfRows(model, ds, rows), rows.length, 8, { seed: 3 });
      const fake = net.features(decodeCodes(model, drawCodes(sampler, n, 4)), n);
      const real = net.features(ds.images.subarray(0, n * 784) as Uint8Array, n);
      const d = net.dim;
      const ours = {
        frechet: frechetDistance(featureGaussian(real, n, d), featureGaussian(fake, n, d)),
        ...precisionRecall(real, n, fake, n, d, 3),
      };
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-gen-py-'));
      writeNpy(path.join(dir, 'real.npy'), real, [n, d]);
      writeNpy(path.join(dir, 'fake.npy'), fake, [n, d]);
      const py = JSON.parse(
        runPython(
          ensurePyEnv(SCIPY_REQUIREMENTS),
          path.join(repoRoot, 'test', 'integration', 'py', 'generation_metrics.py'),
          [path.join(dir, 'real.npy'), path.join(dir, 'fake.npy'), '3'],
        ),
      );
      expect(ours.frechet).toBeGreaterThan(0);
      expect(Math.abs(ours.frechet - py.frechet) / py.frechet).toBeLessThan(1e-6);
      expect(ours.precision).toBeCloseTo(py.precision, 10);
      expect(ours.recall).toBeCloseTo(py.recall, 10);
    } finally {
      model.dispose();
      net.dispose();
    }
  }, 120_000);
});

describe('ae-studio generate', () => {
  it('writes PNG files and the run remembers its sampler', async () => {
    const out = path.join(ws, 'out-prior');
    const r = await runCli(
      'generate',
      '--workspace',
      ws,
      '--run',
      vae,
      '--count',
      '12',
      '--out',
      out,
      '--seed',
      '1',
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ sampler: 'prior', count: 12, reusedRememberedSampler: false });
    expect(listing(out)).toEqual([
      ...Array.from({ length: 12 }, (_, i) => `${String(i).padStart(4, '0')}.png`),
      'grid.png',
    ]);
    const remembered = () =>
      JSON.parse(fs.readFileSync(path.join(ws, 'runs', vae, 'generation', 'sampler.json'), 'utf8'));
    expect(remembered().name).toBe('prior');

    const g = await runCli(
      'generate',
      '--workspace',
      ws,
      '--run',
      vae,
      '--sampler',
      'gmm',
      '--count',
      '5',
      '--out',
      path.join(ws, 'out-gmm'),
      '--seed',
      '2',
    );
    expect(g.code, g.err).toBe(0);
    expect(g.out).toMatch(/Gaussian mixture \(EM\), k = \d+/);
    expect(g.out).toMatch(/now remembers this sampler \(gmm\)/);
    expect(remembered().name).toBe('gmm');
    const again = await runCli(
      'generate',
      '--workspace',
      ws,
      '--run',
      vae,
      '--count',
      '5',
      '--out',
      path.join(ws, 'out-again'),
      '--seed',
      '2',
      '--json',
    );
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ sampler: 'gmm', reusedRememberedSampler: true });
    // the remembered density and the same seed draw the same images
    expect(fs.readFileSync(path.join(ws, 'out-again', '0003.png'))).toEqual(
      fs.readFileSync(path.join(ws, 'out-gmm', '0003.png')),
    );

    // a TF.js export of the decoder carries the chosen sampler, and its sample.js draws new images with it
    const dec = path.join(ws, 'decoder-tfjs');
    const e = await runCli(
      'export',
      '--workspace',
      ws,
      '--run',
      vae,
      '--format',
      'tfjs',
      '--part',
      'decoder',
      '--out',
      dec,
    );
    expect(e.code, e.err).toBe(0);
    const studio = JSON.parse(fs.readFileSync(path.join(dec, 'studio.json'), 'utf8'));
    expect(studio.sampler).toMatchObject({ name: 'gmm', kind: 'gmm', dim: 8 });
    expect(studio.sampler.weights).toEqual(remembered().sampler.weights);
    const ran = spawnSync(process.execPath, [path.join(dec, 'sample.js'), '5'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_PATH: path.join(repoRoot, 'node_modules') },
    });
    expect(ran.status, ran.stderr).toBe(0);
    const drawn = JSON.parse(ran.stdout.trim().split('\n').at(-1)!);
    expect(drawn).toMatchObject({ sampler: 'gmm', shape: [5, 28, 28, 1] });
    expect(drawn.min).toBeGreaterThanOrEqual(0);
    expect(drawn.max).toBeLessThanOrEqual(1);
    // Keras and ONNX exports of the decoder carry it in their metadata; the encoder's do not
    for (const [format, part, file] of [
      ['keras', 'decoder', 'decoder.keras'],
      ['onnx', 'decoder', 'decoder.onnx'],
      ['onnx', 'encoder', 'encoder.onnx'],
    ] as const) {
      const out = path.join(ws, file);
      const x = await runCli(
        'export',
        '--workspace',
        ws,
        '--run',
        vae,
        '--format',
        format,
        '--part',
        part,
        '--out',
        out,
      );
      expect(x.code, x.err).toBe(0);
      const bytes = new Uint8Array(fs.readFileSync(out));
      const carried =
        format === 'keras'
          ? JSON.parse(new TextDecoder().decode(unzipSync(bytes)['metadata.json'])).autoencoder_studio_sampler
          : onnxMetadata(bytes).autoencoder_studio_sampler;
      if (part === 'encoder') expect(carried).toBeUndefined();
      else {
        const parsed = typeof carried === 'string' ? JSON.parse(carried) : carried;
        expect(parsed).toMatchObject({ name: 'gmm', kind: 'gmm', dim: 8 });
        expect(parsed.weights).toEqual(remembered().sampler.weights);
      }
    }
    const enc = path.join(ws, 'encoder-tfjs');
    expect(
      (await runCli('export', '--workspace', ws, '--run', vae, '--format', 'tfjs', '--part', 'encoder', '--out', enc))
        .code,
    ).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(enc, 'studio.json'), 'utf8')).sampler).toBeUndefined();
    expect(fs.existsSync(path.join(enc, 'sample.js'))).toBe(false);
  }, 120_000);

  it('makes more of one label into a new dataset and into an existing one, marked as generated and recognised as that label', async () => {
    const r = await runCli(
      'generate',
      '--workspace',
      ws,
      '--run',
      vae,
      '--sampler',
      'full',
      '--label',
      '3',
      '--count',
      '40',
      '--into-dataset',
      'more threes',
      '--seed',
      '5',
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(r.out);
    expect(res).toMatchObject({ label: '3', count: 40, dataset: { name: 'more threes', count: 40 } });
    const id = findDatasetId(ws, 'more threes')!;
    let d = loadDataset(ws, id);
    expect(d.manifest.source).toEqual({ kind: 'generated', run: vae });
    expect(d.manifest.labelNames).toEqual(['3']);
    expect(d.manifest.generated).toEqual([
      expect.objectContaining({ from: 0, count: 40, run: vae, sampler: 'full', label: '3', seed: 5 }),
    ]);
    // the run remembers no class-conditional density
    expect(JSON.parse(fs.readFileSync(path.join(ws, 'runs', vae, 'generation', 'sampler.json'), 'utf8')).name).toBe(
      'gmm',
    );

    const a = await runCli(
      'generate',
      '--workspace',
      ws,
      '--run',
      vae,
      '--sampler',
      'gmm',
      '--label',
      '5',
      '--count',
      '10',
      '--into-dataset',
      id,
      '--seed',
      '6',
    );
    expect(a.code, a.err).toBe(0);
    expect(a.out).toMatch(/now 50 images/);
    d = loadDataset(ws, id);
    expect(d.manifest.labelNames).toEqual(['3', '5']);
    expect(d.manifest.labelCounts).toEqual([40, 10]);
    expect(d.manifest.generated!.map((g) => [g.from, g.count, g.label])).toEqual([
      [0, 40, '3'],
      [40, 10, '5'],
    ]);

    // the dataset's own classifier reads the generated threes as threes
    const { net } = await featureNetFor(ws, 'mnist', makeBuiltin('mnist'), { maxImages: Number(FEATURE_IMAGES) });
    try {
      const said = net.classify(d.images.subarray(0, 40 * 784) as Uint8Array, 40);
      expect(said.filter((l) => l === 3).length / 40).toBeGreaterThan(0.6);
    } finally {
      net.dispose();
    }
  }, 120_000);

  it('refuses bad arguments in plain words and writes nothing', async () => {
    const before = {
      datasets: listing(path.join(ws, 'datasets')),
      root: listing(ws),
      gen: listing(path.join(ws, 'runs', ae)),
    };
    const cases: Array<[string[], number, RegExp]> = [
      [
        ['--run', ae, '--sampler', 'prior', '--count', '5', '--out', path.join(ws, 'x1')],
        1,
        /not a VAE.*choose another --sampler/,
      ],
      [['--run', vae, '--label', '99', '--count', '5', '--out', path.join(ws, 'x2')], 2, /'99' is not a label/],
      [
        ['--run', vae, '--count', '5', '--out', path.join(ws, 'x3'), '--into-dataset', 'y'],
        2,
        /exactly one of --out DIR/,
      ],
      [['--run', vae, '--count', '0', '--out', path.join(ws, 'x4')], 2, /--count must be a whole number/],
      [
        ['--run', vae, '--count', '5', '--sampler', 'magic', '--out', path.join(ws, 'x5')],
        2,
        /--sampler must be one of/,
      ],
      [['--run', vae, '--count', '5', '--out', path.join(ws, 'out-prior')], 1, /not an empty folder/],
      [['--run', 'nope', '--count', '5', '--out', path.join(ws, 'x6')], 1, /no run 'nope'/],
      [
        ['--run', vae, '--sampler', 'prior', '--label', '3', '--count', '5', '--into-dataset', 'z'],
        1,
        /prior knows nothing of labels/,
      ],
    ];
    for (const [args, code, msg] of cases) {
      const r = await runCli('generate', '--workspace', ws, ...args);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(code);
      expect(r.err).toMatch(msg);
    }
    expect({
      datasets: listing(path.join(ws, 'datasets')),
      root: listing(ws),
      gen: listing(path.join(ws, 'runs', ae)),
    }).toEqual(before);
  }, 120_000);
});

describe('gallery:samplers through the host and the real trainer', () => {
  it('draws a grid per sampler, shows the chosen one, and measures them (reusing the cached classifier)', async () => {
    const r = await host.dispatch('gallery:samplers', { runId: vae, count: 4, seed: 1 });
    expect(r.ok, JSON.stringify(r).slice(0, 500)).toBe(true);
    const g = (r as { ok: true; result: GallerySamplers }).result;
    expect(g.shape).toEqual([28, 28, 1]);
    expect(g.chosen).toBe('gmm'); // what `generate --sampler gmm` left
    expect(g.samplers.map((s) => [s.name, s.images?.length])).toEqual([
      ['prior', 4],
      ['diagonal', 4],
      ['full', 4],
      ['gmm', 4],
      ['two-stage', 4],
    ]);
    const nets = listing(path.join(ws, 'feature-nets'));
    const m = await host.dispatch('gallery:samplers', { runId: vae, count: 2, seed: 2, measure: true });
    expect(m.ok, JSON.stringify(m).slice(0, 500)).toBe(true);
    const measured = (m as { ok: true; result: GallerySamplers }).result.measured!;
    expect(measured.featuresNote).toMatch(/workspace cache/);
    expect(listing(path.join(ws, 'feature-nets'))).toEqual(nets);
    expect(measured.samplers.map((s) => s.name)).toEqual(['prior', 'diagonal', 'full', 'gmm', 'two-stage']);
    for (const s of measured.samplers) expect(s.scores!.frechet).toBeGreaterThan(measured.floor.frechet);
    const saved = JSON.parse(fs.readFileSync(path.join(ws, 'runs', vae, 'generation', 'report.json'), 'utf8'));
    expect(saved.measuredAt).toBe(measured.measuredAt);
  }, 300_000);
});
