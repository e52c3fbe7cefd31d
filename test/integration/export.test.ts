// Export engine behaviour beyond the runtimes: what a format cannot express is an
// ExportError naming the layer and nothing is left at `out`; failed exports leave neither partial
// output nor temporaries; the latents CSV; PNG grids decoded back with sharp; a TensorFlow.js
// export imported back (identical reconstructions, training continues); the ae-studio export and
// latents commands (run through the CLI's own main()).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-node';
import sharp from 'sharp';
import { loadMnist, loadTrained, trainRun, TrainedModel, validateConfig, type Dataset } from '../../src-main/engine';
import { buildAutoencoder } from '../../src-main/engine/models';
import {
  exportModel,
  ExportError,
  ImportError,
  importTfjsExport,
  importTfjsExportAsRun,
  writeImageGridPng,
  writeLatentsCsv,
  EXPORT_PARTS,
} from '../../src-main/formats';
import { makeBuiltin } from '../../src-main/datasets/builtins';
import { writeDataset } from '../../src-main/datasets/store';
import { runCli } from '../helpers/cli';

const all = loadMnist(1000, { seed: 5 });
const subset = (from: number, n: number): Dataset => ({
  images: all.images.subarray(from * 784, (from + n) * 784),
  labels: all.labels?.subarray(from, from + n),
  count: n,
  shape: [28, 28, 1],
});
const train = subset(0, 600);
const probe = subset(900, 50);

let work: string;
let ws: string;
let vae: TrainedModel;
let vaeFirstLoss: number;
const vaeConfig = {
  kind: 'conv-vae',
  inputShape: [28, 28, 1],
  latentDim: 4,
  hidden: [8, 16],
  epochs: 1,
  batchSize: 50,
  seed: 3,
  loss: 'bce',
} as const;

/** Everything in `dir` whose name is not in `keep` (temporaries left behind). */
const leftovers = (dir: string, keep: string[] = []) => fs.readdirSync(dir).filter((f) => !keep.includes(f));

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-export-'));
  ws = path.join(work, 'ws');
  const r = await trainRun({ config: vaeConfig, dataset: train, runDir: path.join(ws, 'runs', 'vae1') });
  expect(r.status, r.message).toBe('completed');
  vaeFirstLoss = r.history.loss[0];
  vae = await loadTrained(path.join(ws, 'runs', 'vae1'));
}, 120_000);

afterAll(() => {
  vae?.dispose();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** A trained-looking model whose encoder holds a layer the studio never builds. */
function handMade(extra: 'batchnorm' | 'selu'): TrainedModel {
  const checked = validateConfig({ kind: 'dense', inputShape: [28, 28, 1], latentDim: 8 });
  if (!checked.ok) throw new Error('config');
  const { decoder, encoder: unused } = buildAutoencoder(checked.config);
  unused.dispose();
  const input = tf.input({ shape: [28, 28, 1], name: 'image' });
  let x = tf.layers.flatten({ name: 'flat' }).apply(input) as tf.SymbolicTensor;
  if (extra === 'batchnorm') {
    x = tf.layers.dense({ units: 8, name: 'code_dense' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ name: 'bn' }).apply(x) as tf.SymbolicTensor;
  } else {
    x = tf.layers.dense({ units: 8, activation: 'selu', name: 'code_selu' }).apply(x) as tf.SymbolicTensor;
  }
  const encoder = tf.model({ inputs: input, outputs: x, name: 'encoder' });
  return new TrainedModel({ encoder, decoder }, checked.config, { mean: Array(8).fill(0), std: Array(8).fill(1) });
}

describe('what a format cannot express', () => {
  it('is an ExportError naming the layer, and nothing is written', async () => {
    const bn = handMade('batchnorm');
    const selu = handMade('selu');
    const dir = path.join(work, 'unsupported');
    fs.mkdirSync(dir);
    try {
      for (const format of ['keras', 'onnx'] as const) {
        for (const part of ['encoder', 'full'] as const) {
          const out = path.join(dir, `m-${part}.${format}`);
          const err = await exportModel(bn, { format, part, out }).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(ExportError);
          expect((err as ExportError).message).toMatch(/layer 'bn' \(BatchNormalization\)/);
          expect((err as ExportError).message).toContain(part === 'full' ? 'encoder' : part);
          expect((err as ExportError).details).toMatchObject({ format, layer: 'bn', className: 'BatchNormalization' });
          const err2 = await exportModel(selu, { format, part, out }).catch((e: unknown) => e);
          expect((err2 as ExportError).message).toMatch(/layer 'code_selu' \(Dense\): its activation 'selu'/);
          expect(fs.existsSync(out)).toBe(false);
        }
        // The decoder alone has only supported layers: it exports.
        await exportModel(bn, { format, part: 'decoder', out: path.join(dir, `dec.${format}`) });
      }
      console.log(
        `e.g. ${((await exportModel(bn, { format: 'onnx', part: 'encoder', out: path.join(dir, 'x.onnx') }).catch((e: Error) => e)) as Error).message}`,
      );
      // TensorFlow.js holds any tfjs model.
      await exportModel(bn, { format: 'tfjs', part: 'encoder', out: path.join(dir, 'bn-tfjs') });
      expect(fs.existsSync(path.join(dir, 'bn-tfjs', 'model.json'))).toBe(true);
      expect(leftovers(dir).sort()).toEqual(['bn-tfjs', 'dec.keras', 'dec.onnx']);
    } finally {
      bn.dispose();
      selu.dispose();
    }
  });

  it('refuses a Keras file name Keras will not load, unknown formats and parts', async () => {
    await expect(exportModel(vae, { format: 'keras', part: 'full', out: path.join(work, 'm.h5') })).rejects.toThrow(
      /\.keras/,
    );
    await expect(
      exportModel(vae, { format: 'pt' as 'onnx', part: 'full', out: path.join(work, 'm.pt') }),
    ).rejects.toThrow(ExportError);
    await expect(
      exportModel(vae, { format: 'onnx', part: 'middle' as 'full', out: path.join(work, 'm.onnx') }),
    ).rejects.toThrow(/Unknown part/);
    expect(fs.existsSync(path.join(work, 'm.h5'))).toBe(false);
  });
});

describe('memory', () => {
  it('exports, latents and grids leave no tensors behind', async () => {
    const dir = path.join(work, 'mem');
    const run = async () => {
      for (const format of ['tfjs', 'keras', 'onnx'] as const) {
        for (const part of EXPORT_PARTS)
          await exportModel(vae, {
            format,
            part,
            out: path.join(dir, `${part}-${format}${format === 'tfjs' ? '' : `.${format}`}`),
          });
        await exportModel(path.join(ws, 'runs', 'vae1'), {
          format,
          part: 'full',
          out: path.join(dir, `fromdir-${format}${format === 'tfjs' ? '' : `.${format}`}`),
        });
      }
      await writeLatentsCsv(vae, probe, path.join(dir, 'z.csv'));
      await writeImageGridPng(
        vae.reconstruct(probe.images.subarray(0, 8 * 784)),
        [28, 28, 1],
        4,
        path.join(dir, 'g.png'),
      );
    };
    await run(); // warm-up (h5wasm, protobufjs, tfjs kernels)
    const before = tf.memory().numTensors;
    await run();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('atomic outputs', () => {
  it('a failure in the middle of an export leaves nothing at out and no temporaries; a previous export stays intact', async () => {
    const dir = path.join(work, 'atomic');
    fs.mkdirSync(dir);
    // A model whose decoder weights are gone: the full TF.js export fails after the encoder is written.
    const broken = await loadTrained(path.join(ws, 'runs', 'vae1'));
    broken.ae.decoder.dispose();
    const out = path.join(dir, 'full-tfjs');
    await expect(exportModel(broken, { format: 'tfjs', part: 'full', out })).rejects.toThrow();
    for (const format of ['keras', 'onnx'] as const)
      await expect(
        exportModel(broken, { format, part: 'full', out: path.join(dir, `full.${format}`) }),
      ).rejects.toThrow();
    expect(leftovers(dir)).toEqual([]);
    // A good export, then a failing one to the same place: the good one is untouched.
    await exportModel(vae, { format: 'onnx', part: 'full', out: path.join(dir, 'full.onnx') });
    await exportModel(vae, { format: 'tfjs', part: 'full', out });
    const before = [fs.readFileSync(path.join(dir, 'full.onnx')), fs.readFileSync(path.join(out, 'weights.bin'))];
    await expect(
      exportModel(broken, { format: 'onnx', part: 'full', out: path.join(dir, 'full.onnx') }),
    ).rejects.toThrow();
    await expect(exportModel(broken, { format: 'tfjs', part: 'full', out })).rejects.toThrow();
    expect(fs.readFileSync(path.join(dir, 'full.onnx')).equals(before[0])).toBe(true);
    expect(fs.readFileSync(path.join(out, 'weights.bin')).equals(before[1])).toBe(true);
    expect(leftovers(dir).sort()).toEqual(['full-tfjs', 'full.onnx']);
    broken.ae.encoder.dispose();
    // Never replaces a folder that is not an earlier export.
    const mine = path.join(dir, 'my-folder');
    fs.mkdirSync(mine);
    fs.writeFileSync(path.join(mine, 'notes.txt'), 'keep me');
    await expect(exportModel(vae, { format: 'tfjs', part: 'full', out: mine })).rejects.toThrow(/other files/);
    expect(fs.readdirSync(mine)).toEqual(['notes.txt']);
  });
});

describe('latent codes as CSV', () => {
  it('one row per image with its label, the codes equal to encode() (a VAE: the mean)', async () => {
    const out = path.join(work, 'codes.csv');
    const res = await writeLatentsCsv(vae, probe, out, { batchSize: 16 });
    expect(res).toMatchObject({ rows: 50, files: [out], bytes: fs.statSync(out).size });
    const lines = fs.readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('label,z0,z1,z2,z3');
    expect(lines.length).toBe(51);
    const z = vae.encode(probe.images);
    lines.slice(1).forEach((line, i) => {
      const [label, ...vals] = line.split(',');
      expect(Number(label)).toBe(probe.labels![i]);
      // batches of 16 vs all 50 at once: the same up to float rounding (gemm blocks by batch size)
      vals.forEach((v, j) => expect(Math.abs(Number(v) - z[i * 4 + j])).toBeLessThan(1e-6));
    });
    // Label names, quoted where CSV needs it.
    const named = path.join(work, 'named.csv');
    await writeLatentsCsv(vae, probe, named, {
      labelNames: ['zero', 'one, really', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'],
    });
    const rows = fs.readFileSync(named, 'utf8').split('\n').slice(1, -1);
    rows.forEach((r, i) =>
      expect(
        r.startsWith(
          probe.labels![i] === 1
            ? '"one, really",'
            : `${['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'][probe.labels![i]]},`,
        ),
      ).toBe(true),
    );
    await expect(writeLatentsCsv(vae, { ...probe, shape: [14, 56, 1] }, path.join(work, 'bad.csv'))).rejects.toThrow(
      /28×28×1/,
    );
    expect(fs.existsSync(path.join(work, 'bad.csv'))).toBe(false);
  });
});

describe('PNG grids', () => {
  it('decode back to the right size and pixels (grey, uint8 and float, gaps, scaling; RGB)', async () => {
    const n = 7;
    const images = Array.from({ length: n }, (_, i) => probe.images.slice(i * 784, (i + 1) * 784) as Uint8Array);
    const out = path.join(work, 'grid.png');
    const res = await writeImageGridPng(images, [28, 28, 1], 3, out, { scale: 2, gap: 1, background: 255 });
    expect(await sharp(out).metadata()).toMatchObject({ format: 'png', channels: 1, space: 'b-w' }); // a greyscale PNG
    const { data, info } = await sharp(out).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([(3 * 28 + 2) * 2, (3 * 28 + 2) * 2, 1]);
    expect([res.width, res.height]).toEqual([info.width, info.height]);
    const px = (x: number, y: number) => data[y * info.width + x];
    for (let i = 0; i < n; i++) {
      const ox = (i % 3) * 29 * 2;
      const oy = Math.floor(i / 3) * 29 * 2;
      for (const [y, x] of [
        [0, 0],
        [14, 14],
        [10, 20],
        [27, 27],
        [5, 13],
      ]) {
        expect(px(ox + 2 * x, oy + 2 * y)).toBe(images[i][y * 28 + x]);
        expect(px(ox + 2 * x + 1, oy + 2 * y + 1)).toBe(images[i][y * 28 + x]);
      }
    }
    expect(px(28 * 2, 0)).toBe(255); // gap
    expect(px(info.width - 1, info.height - 1)).toBe(255); // empty cells (7 of 9)
    // Reconstructions (float 0..1, one flat array) in RGB.
    const rec = vae.reconstruct(probe.images.subarray(0, 4 * 784));
    const rgb = new Float32Array(4 * 784 * 3).map((_, k) => rec[Math.floor(k / 3)] * [1, 0.5, 0][k % 3]);
    const out2 = path.join(work, 'rgb.png');
    await writeImageGridPng(rgb, [28, 28, 3], 4, out2);
    const b = await sharp(out2).raw().toBuffer({ resolveWithObject: true });
    expect([b.info.width, b.info.height, b.info.channels]).toEqual([112, 28, 3]);
    const at = (i: number, y: number, x: number, c: number) => b.data[(y * 112 + i * 28 + x) * 3 + c];
    expect(at(2, 14, 14, 0)).toBe(Math.round(rec[2 * 784 + 14 * 28 + 14] * 255));
    expect(at(2, 14, 14, 2)).toBe(0);
    await expect(writeImageGridPng(images, [28, 28, 2], 3, path.join(work, 'x.png'))).rejects.toThrow(/channels/);
  });
});

describe('importing a TensorFlow.js export', () => {
  it('gives identical reconstructions and both VAE outputs, and keeps training as a run', async () => {
    const out = path.join(work, 'vae-tfjs');
    await exportModel(vae, { format: 'tfjs', part: 'full', out });
    const imported = await importTfjsExport(out);
    const again = new TrainedModel(imported.ae, imported.config, imported.latentStats);
    try {
      expect(imported.config).toEqual(vae.config);
      expect(imported.ae.encoder.outputs.length).toBe(2);
      const x = probe.images.subarray(0, 20 * 784);
      expect(again.reconstruct(x)).toEqual(vae.reconstruct(x));
      expect(again.encode(x)).toEqual(vae.encode(x));
      const xs = tf.tensor4d(
        Float32Array.from(x, (v) => v / 255),
        [20, 28, 28, 1],
      );
      const [a, b] = [vae, again].map((m) => (m.ae.encoder.predict(xs) as tf.Tensor[])[1].dataSync());
      expect(b).toEqual(a); // log-variance too
      tf.dispose(xs);
    } finally {
      again.dispose();
    }

    // Continue training: the run folder it makes resumes from the imported weights.
    const runDir = path.join(work, 'imported-run');
    const t = await importTfjsExportAsRun(out, runDir);
    const firstRec = t.reconstruct(probe.images.subarray(0, 784));
    t.dispose();
    const reloaded = await loadTrained(runDir);
    expect(reloaded.reconstruct(probe.images.subarray(0, 784))).toEqual(firstRec);
    reloaded.dispose();
    const r = await trainRun({ config: { ...vaeConfig, epochs: 1 }, dataset: train, runDir, resume: true });
    expect(r.status, r.message).toBe('completed');
    console.log(
      `first-epoch loss from scratch ${vaeFirstLoss.toFixed(4)}; one more epoch from the imported weights ${r.history.loss[0].toFixed(4)}`,
    );
    expect(r.history.loss[0]).toBeLessThan(vaeFirstLoss);
    const cont = await loadTrained(runDir);
    expect(cont.reconstruct(probe.images.subarray(0, 784))).not.toEqual(firstRec);
    cont.dispose();
  }, 120_000);

  it('refuses a part export and a plain TensorFlow.js folder with a clear message', async () => {
    const enc = path.join(work, 'enc-tfjs');
    await exportModel(vae, { format: 'tfjs', part: 'encoder', out: enc });
    await expect(importTfjsExport(enc)).rejects.toThrow(/only the encoder; export the full autoencoder/);
    const plain = path.join(work, 'plain-tfjs');
    await vae.ae.decoder.save(`file://${plain}`);
    await expect(importTfjsExport(plain)).rejects.toThrow(ImportError);
    await expect(importTfjsExport(plain)).rejects.toThrow(/not an Autoencoder Studio export \(no studio.json\)/);
    await expect(importTfjsExport(work)).rejects.toThrow(/no model.json/);
  });
});

describe('ae-studio export and latents', () => {
  const cli = runCli;

  it('exports every format and part of a run', async () => {
    for (const format of ['tfjs', 'keras', 'onnx'] as const) {
      for (const part of EXPORT_PARTS) {
        const out = path.join(work, 'cli', `${part}.${format}`);
        const r = await cli(
          'export',
          '--workspace',
          ws,
          '--run',
          'vae1',
          '--format',
          format,
          '--part',
          part,
          '--out',
          out,
          '--json',
        );
        expect(r.code, r.err).toBe(0);
        const res = JSON.parse(r.out) as { files: string[]; bytes: number };
        expect(res.files.length).toBe(format === 'tfjs' ? 3 : 1);
        expect(fs.existsSync(format === 'tfjs' ? path.join(out, 'model.json') : out)).toBe(true);
      }
    }
  });

  it('writes the latents of a built-in or a stored dataset', async () => {
    const r = await cli(
      'latents',
      '--workspace',
      ws,
      '--run',
      'vae1',
      '--dataset',
      'mnist',
      '--out',
      path.join(work, 'cli', 'mnist.csv'),
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Wrote 10000 codes \(4-d\)/);
    expect(fs.readFileSync(path.join(work, 'cli', 'mnist.csv'), 'utf8').split('\n').length).toBe(10_002);
    const shapes = makeBuiltin('shapes', { perClass: 20 });
    const m = await writeDataset(ws, 'Shapes', shapes, { kind: 'builtin', builtin: 'shapes' });
    const csv = path.join(work, 'cli', 'shapes.csv');
    const r2 = await cli('latents', '--workspace', ws, '--run', 'vae1', '--dataset', m.id, '--out', csv, '--json');
    expect(r2.code, r2.err).toBe(0);
    const lines = fs.readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(lines.length).toBe(61);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(Array.from(shapes.labels, (l) => shapes.labelNames[l]));
  });

  it('exits non-zero with the reason for unsupported or impossible requests', async () => {
    fs.mkdirSync(path.join(ws, 'runs', 'untrained'), { recursive: true });
    const cases: Array<[string[], number, RegExp]> = [
      [
        ['export', '--workspace', ws, '--run', 'vae1', '--format', 'pt', '--out', path.join(work, 'x')],
        2,
        /--format must be one of tfjs, keras, onnx \(got 'pt'\)/,
      ],
      [
        [
          'export',
          '--workspace',
          ws,
          '--run',
          'vae1',
          '--format',
          'onnx',
          '--part',
          'middle',
          '--out',
          path.join(work, 'x'),
        ],
        2,
        /--part must be one of encoder, decoder, full/,
      ],
      [
        ['export', '--workspace', ws, '--run', 'vae1', '--format', 'keras', '--out', path.join(work, 'x.h5')],
        1,
        /only loads archives named \*\.keras/,
      ],
      [
        ['export', '--workspace', ws, '--run', 'nope', '--format', 'onnx', '--out', path.join(work, 'x.onnx')],
        1,
        /There is no run 'nope'/,
      ],
      [
        ['export', '--workspace', ws, '--run', '../vae1', '--format', 'onnx', '--out', path.join(work, 'x.onnx')],
        2,
        /not a run id/,
      ],
      [
        ['export', '--workspace', ws, '--run', 'untrained', '--format', 'onnx', '--out', path.join(work, 'x.onnx')],
        1,
        /has no trained model yet/,
      ],
      [['export', '--workspace', ws, '--run', 'vae1', '--format', 'onnx'], 2, /--out PATH is required/],
      [
        ['latents', '--workspace', ws, '--run', 'vae1', '--dataset', 'cifar', '--out', path.join(work, 'x.csv')],
        1,
        /There is no dataset 'cifar'/,
      ],
      [
        ['latents', '--workspace', ws, '--run', 'vae1', '--out', path.join(work, 'x.csv')],
        2,
        /--dataset NAME is required/,
      ],
    ];
    for (const [argv, code, reason] of cases) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(code);
      expect(r.err).toMatch(reason);
    }
    expect(
      fs.existsSync(path.join(work, 'x.onnx')) ||
        fs.existsSync(path.join(work, 'x.csv')) ||
        fs.existsSync(path.join(work, 'x.h5')),
    ).toBe(false);
  });
});
