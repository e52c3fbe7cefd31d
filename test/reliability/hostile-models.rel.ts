// Hostile models: every model the studio reads from outside — a trained cluster job
// folder (ae-studio job import / jobs:import) and a TensorFlow.js export (models:import) — damaged
// or forged on purpose: weight paths that leave the folder (.., absolute, symlinks, a device), a
// FIFO, declared shapes that would exhaust memory (a 10⁹-unit layer, a model over the size limit,
// a 2⁴⁰-byte header), truncated and oversized weight files, NaN weights, weights or topologies
// that do not fit the config, another version, missing pieces. Each must be refused with a message
// naming what is wrong, quickly, without a large allocation, and with nothing written to the
// workspace; the untouched folders still import.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMnist, trainRun, type Dataset } from '../../src-main/engine';
import { exportModel, importTfjsExport, importTfjsExportAsRun } from '../../src-main/formats';
import { exportJob } from '../../src-main/cluster/export';
import { importJobAsRun, readJob } from '../../src-main/cluster/import';
import { planWeights, jobPlan } from '../../src-main/engine/layer-plan';
import { readSafetensorsHeader, writeSafetensors } from '../../src-main/cluster/safetensors';
import { validateConfig } from '../../src-main/engine/config';
import { tally } from './record';

let root: string;
let outside: string;
let goodJob: string;
let goodTfjs: string;
const data: Dataset = loadMnist(120, { seed: 5 });
const config = {
  kind: 'conv-vae',
  inputShape: [28, 28, 1],
  latentDim: 4,
  hidden: [4, 8],
  epochs: 1,
  batchSize: 40,
  seed: 3,
} as const;

const copy = (src: string, name: string) => {
  const dst = path.join(root, name);
  fs.cpSync(src, dst, { recursive: true });
  return dst;
};

/** What train.py leaves in out/checkpoint after one epoch, written here from the job's initial weights (the reader is under test, not PyTorch). */
function writeCheckpoint(jobDir: string) {
  const job = JSON.parse(fs.readFileSync(path.join(jobDir, 'job.json'), 'utf8'));
  const ck = path.join(jobDir, 'out', 'checkpoint');
  fs.mkdirSync(ck, { recursive: true });
  fs.copyFileSync(path.join(jobDir, 'init', 'model.safetensors'), path.join(ck, 'model.safetensors'));
  const c = (validateConfig(job.config) as { ok: true; config: Parameters<typeof jobPlan>[0] }).config;
  const wts = planWeights(jobPlan(c));
  writeSafetensors(
    path.join(ck, 'optimizer.safetensors'),
    ['m', 'v'].flatMap((s) =>
      wts.map((w) => ({
        name: `${w.key}/${s}`,
        dtype: 'F32' as const,
        shape: w.shape,
        data: new Float32Array(w.shape.reduce((a, b) => a * b, 1)),
      })),
    ),
  );
  const rec = {
    epoch: 1,
    train_loss: 0.5,
    val_loss: 0.5,
    samples_per_sec: 100,
    world_size: 2,
    seconds: 1,
    restart: 0,
    time: '2026-01-01T00:00:00Z',
  };
  fs.writeFileSync(
    path.join(ck, 'state.json'),
    JSON.stringify({
      format: job.format,
      version: 1,
      epochsDone: 1,
      startEpoch: 0,
      targetEpoch: 1,
      history: { loss: [0.5], valLoss: [0.5] },
      bestValLoss: 0.5,
      sinceBest: 0,
      iterations: 3,
      epochs: [rec],
      resumedFrom: null,
    }),
  );
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-rel-models-'));
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-rel-models-outside-'));
  fs.writeFileSync(path.join(outside, 'secret.bin'), Buffer.alloc(4096, 7));
  goodJob = path.join(root, 'good-job');
  await exportJob({ config, dataset: data, datasetSpec: null, datasetName: 'digits', name: 'hostile', out: goodJob });
  writeCheckpoint(goodJob);
  const runDir = path.join(root, 'run');
  const r = await trainRun({ config, dataset: data, runDir });
  expect(r.status, r.message).toBe('completed');
  goodTfjs = path.join(root, 'good-tfjs');
  await exportModel(runDir, { format: 'tfjs', part: 'full', out: goodTfjs });
}, 120_000);

/** Runs a refusal: the error must match, come fast, allocate little, and leave nothing in the workspace. */
async function refused(
  t: ReturnType<typeof tally>,
  what: string,
  run: (runDir: string) => Promise<unknown>,
  re: RegExp,
) {
  await t.attempt(async () => {
    const ws = path.join(root, `ws-${what.replace(/\W+/g, '-')}`);
    const runDir = path.join(ws, 'runs', 'imported');
    const rss = process.memoryUsage().rss;
    const started = Date.now();
    let error: Error | undefined;
    try {
      await run(runDir);
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message ?? '(accepted)', what).toMatch(re);
    expect(Date.now() - started, what).toBeLessThan(10_000);
    expect(process.memoryUsage().rss - rss, what).toBeLessThan(200 * 2 ** 20);
    expect(fs.existsSync(runDir), `${what}: nothing written`).toBe(false);
  });
}

/** Rewrites a safetensors file's header (keeping its data) with `edit`. */
function editHeader(
  file: string,
  edit: (h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void,
) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  edit(header);
  const hb = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.length));
  fs.writeFileSync(file, Buffer.concat([len, hb, buf.subarray(8 + n)]));
}

describe('hostile input: cluster job folders', () => {
  it('the good job imports (the baseline)', async () => {
    const r = await importJobAsRun(goodJob, path.join(root, 'ws-good', 'runs', 'a'));
    expect(r.epochsDone).toBe(1);
  });

  it('forged, damaged or incomplete job folders are refused before anything large is allocated; nothing is written', async () => {
    const t = tally(
      'hostile',
      'cluster job import: paths out, FIFO, 10⁹-unit / 2⁴⁰-byte declarations, truncated / oversized / NaN weights, wrong version, incomplete',
    );
    const ckpt = (dir: string) => path.join(dir, 'out', 'checkpoint');
    const cases: Array<[string, () => string, RegExp]> = [
      [
        'no job.json',
        () => {
          const d = copy(goodJob, 'no-job');
          fs.rmSync(path.join(d, 'job.json'));
          return d;
        },
        /no job\.json/,
      ],
      [
        'another version',
        () => {
          const d = copy(goodJob, 'v2');
          const j = JSON.parse(fs.readFileSync(path.join(d, 'job.json'), 'utf8'));
          fs.writeFileSync(path.join(d, 'job.json'), JSON.stringify({ ...j, version: 2 }));
          return d;
        },
        /version 2 job; this studio reads version 1/,
      ],
      [
        'not trained yet',
        () => {
          const d = copy(goodJob, 'untrained');
          fs.rmSync(path.join(d, 'out'), { recursive: true });
          return d;
        },
        /has not trained yet/,
      ],
      [
        'a model over the size limit in job.json',
        () => {
          const d = copy(goodJob, 'huge-config');
          const j = JSON.parse(fs.readFileSync(path.join(d, 'job.json'), 'utf8'));
          j.config = { ...j.config, kind: 'vae', inputShape: [1024, 1024, 4], hidden: [8192], latentDim: 4 };
          j.dataset.shape = [1024, 1024, 4];
          fs.writeFileSync(path.join(d, 'job.json'), JSON.stringify(j));
          return d;
        },
        /parameters; the studio holds at most/,
      ],
      [
        'job.json of 20 MB',
        () => {
          const d = copy(goodJob, 'big-json');
          fs.writeFileSync(
            path.join(d, 'job.json'),
            `{"format": "autoencoder-studio/torch-job", "pad": "${'x'.repeat(20 * 2 ** 20)}"}`,
          );
          return d;
        },
        /refused unread/,
      ],
      [
        'a 10⁹-unit layer declared in model.safetensors',
        () => {
          const d = copy(goodJob, 'billion');
          editHeader(path.join(ckpt(d), 'model.safetensors'), (h) => {
            h['encoder.z_mean.weight'].shape = [1_000_000_000, 392];
          });
          return d;
        },
        /declares shape \[1000000000, 392\]|does not fit the model/,
      ],
      [
        'a 2⁴⁰-byte header',
        () => {
          const d = copy(goodJob, 'header');
          const f = path.join(ckpt(d), 'model.safetensors');
          const buf = fs.readFileSync(f);
          buf.writeBigUInt64LE(2n ** 40n, 0);
          fs.writeFileSync(f, buf);
          return d;
        },
        /byte header .* refused unread/,
      ],
      [
        'weights of the wrong shape',
        () => {
          const d = copy(goodJob, 'shape');
          const f = path.join(ckpt(d), 'model.safetensors');
          const h = readSafetensorsHeader(f);
          const tensors = [...h.entries.values()].map((e) => ({
            name: e.name,
            dtype: 'F32' as const,
            shape: e.name === 'decoder.dec_in_dense.weight' ? [e.shape[1], e.shape[0]] : e.shape,
            data: new Float32Array((e.end - e.begin) / 4),
          }));
          writeSafetensors(f, tensors);
          return d;
        },
        /does not fit the model: 'decoder\.dec_in_dense\.weight' has shape \[4, 392\], the config needs \[392, 4\]/,
      ],
      [
        'a missing weight',
        () => {
          const d = copy(goodJob, 'missing');
          const f = path.join(ckpt(d), 'model.safetensors');
          const h = readSafetensorsHeader(f);
          writeSafetensors(
            f,
            [...h.entries.values()]
              .filter((e) => e.name !== 'encoder.z_log_var.bias')
              .map((e) => ({
                name: e.name,
                dtype: 'F32' as const,
                shape: e.shape,
                data: new Float32Array((e.end - e.begin) / 4),
              })),
          );
          return d;
        },
        /'encoder\.z_log_var\.bias' is missing/,
      ],
      [
        'a truncated weight file',
        () => {
          const d = copy(goodJob, 'truncated');
          const f = path.join(ckpt(d), 'model.safetensors');
          fs.truncateSync(f, fs.statSync(f).size - 100);
          return d;
        },
        /is truncated/,
      ],
      [
        'an oversized weight file',
        () => {
          const d = copy(goodJob, 'oversized');
          fs.appendFileSync(path.join(ckpt(d), 'model.safetensors'), Buffer.alloc(3 * 2 ** 20));
          return d;
        },
        /oversized|more than the .* its tensors can take/,
      ],
      [
        'NaN weights',
        () => {
          const d = copy(goodJob, 'nan');
          const f = path.join(ckpt(d), 'model.safetensors');
          const buf = fs.readFileSync(f);
          buf.writeFloatLE(Number.NaN, buf.length - 8);
          fs.writeFileSync(f, buf);
          return d;
        },
        /holds NaN/,
      ],
      [
        'out/checkpoint a link out of the folder',
        () => {
          const d = copy(goodJob, 'link-dir');
          const ext = path.join(outside, 'ckpt');
          fs.cpSync(ckpt(d), ext, { recursive: true });
          fs.rmSync(ckpt(d), { recursive: true });
          fs.symlinkSync(ext, ckpt(d));
          return d;
        },
        /link that leads outside the folder/,
      ],
      [
        'model.safetensors a link to /dev/zero',
        () => {
          const d = copy(goodJob, 'dev-zero');
          fs.rmSync(path.join(ckpt(d), 'model.safetensors'));
          fs.symlinkSync('/dev/zero', path.join(ckpt(d), 'model.safetensors'));
          return d;
        },
        /leads outside the folder/,
      ],
      [
        'model.safetensors a FIFO',
        () => {
          const d = copy(goodJob, 'fifo');
          fs.rmSync(path.join(ckpt(d), 'model.safetensors'));
          execFileSync('mkfifo', [path.join(ckpt(d), 'model.safetensors')]);
          return d;
        },
        /not a regular file/,
      ],
      [
        'a dataset index outside the images',
        () => {
          const d = copy(goodJob, 'index');
          const f = path.join(d, 'data', 'dataset.safetensors');
          const h = readSafetensorsHeader(f);
          const e = h.entries.get('train_index')!;
          const buf = fs.readFileSync(f);
          buf.writeInt32LE(1_000_000, h.dataStart + e.begin);
          fs.writeFileSync(f, buf);
          return d;
        },
        /train_index holds 1000000, outside the 120 images/,
      ],
      [
        'a history that disagrees with the epochs',
        () => {
          const d = copy(goodJob, 'history');
          const f = path.join(ckpt(d), 'state.json');
          const s = JSON.parse(fs.readFileSync(f, 'utf8'));
          fs.writeFileSync(f, JSON.stringify({ ...s, epochsDone: 5 }));
          return d;
        },
        /says 5 epochs but its history has 1|does not belong/,
      ],
    ];
    try {
      const failures: string[] = [];
      for (const [what, make, re] of cases) {
        const dir = make();
        await refused(t, what, (runDir) => importJobAsRun(dir, runDir), re).catch((e) =>
          failures.push(`${what}: ${(e as Error).message}`),
        );
      }
      if (failures.length) throw new Error(failures.join('\n'));
      // the outside folder was read by nothing and changed by nothing
      expect(fs.readdirSync(outside).sort()).toEqual(['ckpt', 'secret.bin']);
      // and the good job still reads
      expect(readJob(goodJob).state.epochsDone).toBe(1);
    } finally {
      t.done();
    }
  }, 120_000);
});

describe('hostile input: TensorFlow.js exports', () => {
  it('the good export imports (the baseline)', async () => {
    const m = await importTfjsExport(goodTfjs);
    m.ae.encoder.dispose();
    m.ae.decoder.dispose();
  });

  it('forged or damaged exports are refused before anything large is allocated; nothing is written', async () => {
    const t = tally(
      'hostile',
      'TF.js model import: weight paths out, links, 10⁹-unit layers, oversized config, truncated / oversized / NaN weights',
    );
    const manifest = (
      d: string,
      edit: (m: {
        weightsManifest: Array<{ paths: string[]; weights: Array<{ name: string; shape: number[] }> }>;
        modelTopology: unknown;
      }) => void,
    ) => {
      const f = path.join(d, 'model.json');
      const m = JSON.parse(fs.readFileSync(f, 'utf8'));
      edit(m);
      fs.writeFileSync(f, JSON.stringify(m));
    };
    const cases: Array<[string, () => string, RegExp]> = [
      [
        'a weight path with ..',
        () => {
          const d = copy(goodTfjs, 'tf-dotdot');
          manifest(d, (m) => (m.weightsManifest[0].paths = [`../../${path.basename(outside)}/secret.bin`]));
          return d;
        },
        /leaves the export's folder/,
      ],
      [
        'an absolute weight path',
        () => {
          const d = copy(goodTfjs, 'tf-abs');
          manifest(d, (m) => (m.weightsManifest[0].paths = ['/etc/passwd']));
          return d;
        },
        /leaves the export's folder/,
      ],
      [
        'weights.bin a link out of the folder',
        () => {
          const d = copy(goodTfjs, 'tf-link');
          fs.rmSync(path.join(d, 'weights.bin'));
          fs.symlinkSync(path.join(outside, 'secret.bin'), path.join(d, 'weights.bin'));
          return d;
        },
        /link that leads outside the folder/,
      ],
      [
        'weights.bin a FIFO',
        () => {
          const d = copy(goodTfjs, 'tf-fifo');
          fs.rmSync(path.join(d, 'weights.bin'));
          execFileSync('mkfifo', [path.join(d, 'weights.bin')]);
          return d;
        },
        /not a regular file/,
      ],
      [
        'a 10⁹-unit layer declared in the manifest',
        () => {
          const d = copy(goodTfjs, 'tf-billion');
          manifest(
            d,
            (m) => (m.weightsManifest[0].weights.find((w) => w.name === 'z_mean/kernel')!.shape = [392, 1_000_000_000]),
          );
          return d;
        },
        /z_mean\/kernel has shape \[392, 1000000000\], the config needs \[392, 4\]/,
      ],
      [
        'a 10⁹-unit Dense layer in the topology',
        () => {
          const d = copy(goodTfjs, 'tf-topology');
          const f = path.join(d, 'model.json');
          fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('"units":392', '"units":1000000000'));
          return d;
        },
        /declares 1000000000 units, the config builds 392/,
      ],
      [
        'a config over the size limit in studio.json',
        () => {
          const d = copy(goodTfjs, 'tf-huge-config');
          const f = path.join(d, 'studio.json');
          const s = JSON.parse(fs.readFileSync(f, 'utf8'));
          fs.writeFileSync(
            f,
            JSON.stringify({ ...s, config: { ...s.config, kind: 'vae', inputShape: [1024, 1024, 4], hidden: [8192] } }),
          );
          return d;
        },
        /parameters; the studio holds at most/,
      ],
      [
        'a truncated weights.bin',
        () => {
          const d = copy(goodTfjs, 'tf-truncated');
          const f = path.join(d, 'weights.bin');
          fs.truncateSync(f, fs.statSync(f).size - 64);
          return d;
        },
        /are truncated/,
      ],
      [
        'an oversized weights.bin',
        () => {
          const d = copy(goodTfjs, 'tf-oversized');
          fs.appendFileSync(path.join(d, 'weights.bin'), Buffer.alloc(2 ** 20));
          return d;
        },
        /are oversized/,
      ],
      [
        'NaN weights',
        () => {
          const d = copy(goodTfjs, 'tf-nan');
          const f = path.join(d, 'weights.bin');
          const buf = fs.readFileSync(f);
          buf.writeFloatLE(Number.NaN, 0);
          fs.writeFileSync(f, buf);
          return d;
        },
        /holds NaN/,
      ],
      [
        'float16 weights',
        () => {
          const d = copy(goodTfjs, 'tf-dtype');
          manifest(d, (m) => ((m.weightsManifest[0].weights[0] as { dtype?: string }).dtype = 'float16'));
          return d;
        },
        /float32 weights only/,
      ],
      [
        'latent statistics of the wrong size',
        () => {
          const d = copy(goodTfjs, 'tf-stats');
          const f = path.join(d, 'studio.json');
          const s = JSON.parse(fs.readFileSync(f, 'utf8'));
          fs.writeFileSync(f, JSON.stringify({ ...s, latentStats: { mean: new Array(5_000_000).fill(0), std: [] } }));
          return d;
        },
        /more than the .* it can reasonably take|latent statistics do not fit/,
      ],
    ];
    try {
      const failures: string[] = [];
      for (const [what, make, re] of cases) {
        const dir = make();
        await refused(t, what, (runDir) => importTfjsExportAsRun(dir, runDir).then((m) => m.dispose()), re).catch((e) =>
          failures.push(`${what}: ${(e as Error).message}`),
        );
      }
      if (failures.length) throw new Error(failures.join('\n'));
      expect(fs.readFileSync(path.join(outside, 'secret.bin'))).toEqual(Buffer.alloc(4096, 7));
    } finally {
      t.done();
    }
  }, 120_000);
});
