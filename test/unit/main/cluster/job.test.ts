// Cluster jobs without Python: the layer plan against tfjs's real models, the layout
// maps, the safetensors reader and writer, the job folder's files (train.py compiles, launch.sh
// builds the torchrun command for one node and for several), export refusals, and the CLI. The
// PyTorch side runs for real in test/integration/cluster-job.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAutoencoder, loadMnist, validateConfig, type ModelConfigInput } from '../../../../src-main/engine';
import {
  jobPlan,
  planWeights,
  toTfLayout,
  toTorchLayout,
  weightPermutation,
  MAX_PARAMETERS,
} from '../../../../src-main/engine/layer-plan';
import {
  checkExpected,
  readF32,
  readSafetensorsHeader,
  writeSafetensors,
  SafetensorsError,
} from '../../../../src-main/cluster/safetensors';
import { exportJob, JobError } from '../../../../src-main/cluster/export';
import { readJob, JobImportError } from '../../../../src-main/cluster/import';
import { TRAIN_PY } from '../../../../src-main/cluster/train-py';
import { main as cli } from '../../../../src-main/cli/main';
import type { ModelConfig } from '../../../../src-main/engine/config';

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-job-unit-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const resolved = (c: ModelConfigInput): ModelConfig => {
  const r = validateConfig(c);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
};

const CONFIGS: Record<string, ModelConfigInput> = {
  dense: { kind: 'dense', inputShape: [8, 8, 3], latentDim: 6 },
  'deep-dense': {
    kind: 'deep-dense',
    inputShape: [28, 28, 1],
    latentDim: 8,
    hidden: [32, 16],
    activation: 'leaky-relu',
  },
  conv: { kind: 'conv', inputShape: [16, 12, 3], latentDim: 5, hidden: [4, 6] },
  vae: { kind: 'vae', inputShape: [8, 8, 1], latentDim: 2, hidden: [16] },
  'conv-vae': { kind: 'conv-vae', inputShape: [28, 28, 1], latentDim: 3, hidden: [4, 8], activation: 'elu' },
  sparse: { kind: 'sparse', inputShape: [8, 8, 2], latentDim: 7 },
};

describe('the layer plan', () => {
  for (const [kind, c] of Object.entries(CONFIGS)) {
    it(`${kind}: names, tfjs shapes and parameter count are tfjs's own model's`, () => {
      const config = resolved(c);
      const plan = jobPlan(config);
      const ae = buildAutoencoder(config);
      try {
        const vars = [...ae.encoder.trainableWeights, ...ae.decoder.trainableWeights];
        const wts = planWeights(plan);
        expect(wts.map((w) => `${w.tfName}:${w.tfShape.join('x')}`)).toEqual(
          vars.map((v) => `${v.originalName}:${v.shape.join('x')}`),
        );
        expect(plan.parameters).toBe(ae.encoder.countParams() + ae.decoder.countParams());
        expect(plan.convInput).toBe(kind.startsWith('conv'));
      } finally {
        ae.encoder.dispose();
        ae.decoder.dispose();
      }
    });
  }

  it('loops over any number of conv stages and reads kernelSize (3 or 5) when the config has them', () => {
    const base = resolved({ kind: 'conv', inputShape: [64, 64, 3], latentDim: 16, hidden: [8, 16] });
    const plan = jobPlan({ ...base, hidden: [8, 16, 32], kernelSize: 5 } as ModelConfig);
    const convs = [...plan.encoder, ...plan.decoder].filter((o) => o.op === 'conv' || o.op === 'convT');
    expect(
      convs.map(
        (o) =>
          `${o.op}:${'name' in o ? o.name : ''}:${'in' in o ? o.in : ''}>${'out' in o ? o.out : ''}:k${'kernel' in o ? o.kernel : ''}`,
      ),
    ).toEqual([
      'conv:enc_conv1:3>8:k5',
      'conv:enc_conv2:8>16:k5',
      'conv:enc_conv3:16>32:k5',
      'convT:dec_convt1:32>16:k5',
      'convT:dec_convt2:16>8:k5',
      'convT:dec_convt3:8>3:k5',
    ]);
    expect(plan.heads[0].permuteIn).toEqual([8, 8, 32]);
    expect(() => jobPlan({ ...base, inputShape: [60, 60, 3], hidden: [8, 16, 32] } as ModelConfig)).toThrow(
      /divisible by 8/,
    );
    expect(() => jobPlan({ ...base, kernelSize: 7 } as unknown as ModelConfig)).toThrow(/kernelSize 7/);
  });

  it('refuses a model over MAX_PARAMETERS before anything is built', () => {
    expect(() => jobPlan(resolved({ kind: 'vae', inputShape: [1024, 1024, 4], hidden: [8192], latentDim: 4 }))).toThrow(
      new RegExp(`at most ${MAX_PARAMETERS.toLocaleString('en-US')}`),
    );
  });

  it('the layout maps are permutations and invert each other (conv, transposed conv, the dense layers at the flatten and the reshape)', () => {
    const plan = jobPlan(resolved(CONFIGS.conv));
    for (const wt of planWeights(plan)) {
      const perm = weightPermutation(wt);
      const seen = new Uint8Array(perm.length);
      for (const p of perm) seen[p]++;
      expect(
        seen.every((v) => v === 1),
        wt.key,
      ).toBe(true);
      const x = Float32Array.from({ length: perm.length }, (_, i) => i);
      expect(Array.from(toTfLayout(wt, toTorchLayout(wt, x)))).toEqual(Array.from(x));
    }
    // spot checks: conv [ky,kx,in,out] → [out,in,ky,kx]; the dense layer after the flatten reads NCHW columns
    const [c1] = planWeights(plan);
    const tf1 = Float32Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => i);
    const t1 = toTorchLayout(c1, tf1);
    const at = (ky: number, kx: number, i: number, o: number) => ((ky * 3 + kx) * 3 + i) * 4 + o;
    expect(t1[((2 * 3 + 1) * 3 + 0) * 3 + 2]).toBe(at(0, 2, 1, 2)); // torch[o=2,i=1,ky=0,kx=2]
    const code = planWeights(plan).find((w) => w.key === 'encoder.code_dense.weight')!; // in = 4·3·6 (h·w·c), out = 5
    const tfc = Float32Array.from({ length: 72 * 5 }, (_, i) => i);
    const tc = toTorchLayout(code, tfc);
    // tfjs row (y=1, x=2, c=5) = (1·3+2)·6+5 = 35; torch column (c=5, y=1, x=2) = (5·4+1)·3+2 = 65
    expect(tc[3 * 72 + 65]).toBe(tfc[35 * 5 + 3]);
  });
});

describe('safetensors', () => {
  it('round trip, and the reader refuses what does not fit or is malformed before reading data', () => {
    const f = path.join(work, 'a.safetensors');
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const b = Float32Array.from([7]);
    const bytes = writeSafetensors(
      f,
      [
        { name: 'a', dtype: 'F32', shape: [2, 3], data: a },
        { name: 'b', dtype: 'F32', shape: [1], data: b },
      ],
      { note: 'x' },
    );
    expect(fs.statSync(f).size).toBe(bytes);
    const h = readSafetensorsHeader(f);
    expect(h.metadata).toEqual({ note: 'x' });
    expect(h.dataStart % 8).toBe(0);
    expect(Array.from(readF32(h, 'a'))).toEqual([1, 2, 3, 4, 5, 6]);
    checkExpected(h, [
      { name: 'a', shape: [2, 3] },
      { name: 'b', shape: [1] },
    ]);
    expect(() =>
      checkExpected(h, [
        { name: 'a', shape: [3, 2] },
        { name: 'c', shape: [1] },
      ]),
    ).toThrow(/'a' has shape \[2, 3\], the config needs \[3, 2\]; 'c' is missing; unexpected tensor 'b'/);
    // malformed files
    const bad = (name: string, buf: Buffer) => {
      const p = path.join(work, name);
      fs.writeFileSync(p, buf);
      return () => readSafetensorsHeader(p);
    };
    const good = fs.readFileSync(f);
    expect(bad('short', good.subarray(0, 5))).toThrow(/truncated/);
    expect(bad('cut', good.subarray(0, good.length - 4))).toThrow(/truncated/);
    expect(bad('long', Buffer.concat([good, Buffer.alloc(16)]))).toThrow(/16 bytes after its last tensor/);
    const huge = Buffer.from(good);
    huge.writeBigUInt64LE(2n ** 62n, 0);
    expect(bad('huge', huge)).toThrow(/header .* refused unread/);
    const notJson = Buffer.from(good);
    notJson.write('!', 8);
    expect(bad('json', notJson)).toThrow(/not JSON/);
    expect(() => readSafetensorsHeader(f, { maxFileBytes: 10 })).toThrow(/refused unread/);
    // NaN
    const n = path.join(work, 'nan.safetensors');
    writeSafetensors(n, [{ name: 'w', dtype: 'F32', shape: [2], data: Float32Array.from([0, Number.NaN]) }]);
    expect(() => readF32(readSafetensorsHeader(n), 'w')).toThrow(SafetensorsError);
    expect(() => readF32(readSafetensorsHeader(n), 'w')).toThrow(/NaN at element 1/);
  });
});

describe('the job folder', () => {
  const data = loadMnist(100, { seed: 1 });
  let job: string;
  beforeAll(async () => {
    job = path.join(work, 'job');
    await exportJob({
      config: { kind: 'conv', inputShape: [28, 28, 1], latentDim: 4, hidden: [4, 8], epochs: 3, batchSize: 20 },
      dataset: data,
      datasetSpec: null,
      datasetName: 'd',
      name: 'unit',
      out: job,
    });
  });

  it('holds every file; train.py compiles; launch.sh and slurm.sbatch are valid shell', () => {
    for (const f of [
      'job.json',
      'train.py',
      'launch.sh',
      'slurm.sbatch',
      'requirements.txt',
      'README.md',
      'data/dataset.safetensors',
      'init/model.safetensors',
    ])
      expect(fs.existsSync(path.join(job, f)), f).toBe(true);
    expect(fs.readFileSync(path.join(job, 'train.py'), 'utf8')).toBe(TRAIN_PY);
    const py = spawnSync('python3', ['-m', 'py_compile', path.join(job, 'train.py')], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    for (const sh of ['launch.sh', 'slurm.sbatch']) {
      const r = spawnSync('bash', ['-n', path.join(job, sh)], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    expect(fs.readFileSync(path.join(job, 'requirements.txt'), 'utf8')).toMatch(
      /torch>=2\.1\nnumpy>=1\.24\nsafetensors>=0\.4/,
    );
    expect(fs.readFileSync(path.join(job, 'README.md'), 'utf8')).toMatch(/--nnodes 4 --rdzv-endpoint/);
  });

  it('launch.sh runs torchrun with the workers, epochs and multi-node flags it is given', () => {
    // PYTHON=echo prints the command instead of running it
    const run = (...args: string[]) =>
      spawnSync(path.join(job, 'launch.sh'), args, { encoding: 'utf8', env: { ...process.env, PYTHON: 'echo' } });
    const one = run('--workers', '3', '--epochs', '7', '--', '--device', 'cpu');
    expect(one.status, one.stderr).toBe(0);
    expect(one.stdout.trim()).toBe(
      `-m torch.distributed.run --nproc_per_node=3 --max-restarts=3 --standalone --nnodes=1 ${job}/train.py --out ${job}/out --epochs 7 --device cpu`,
    );
    const rdzv = run(
      '--workers',
      '8',
      '--nnodes',
      '4',
      '--rdzv-endpoint',
      'node1:29500',
      '--rdzv-id',
      'j42',
      '--max-restarts',
      '0',
    );
    expect(rdzv.stdout).toContain(
      '--nproc_per_node=8 --max-restarts=0 --nnodes=4 --rdzv-backend=c10d --rdzv-endpoint=node1:29500 --rdzv-id=j42',
    );
    const fixed = run('--nnodes', '2', '--node-rank', '1', '--master-addr', 'head', '--out', '/shared/out');
    expect(fixed.stdout).toContain('--nnodes=2 --node-rank=1 --master-addr=head --master-port=29500');
    expect(fixed.stdout).toContain('--out /shared/out');
    expect(run('--workers', '0').status).toBe(2);
    expect(run('--nnodes', '2').status).toBe(2);
    expect(run('--bogus').status).toBe(2);
    // torchrun gets a store per attempt (restarts on several nodes: docs/cluster.md), even where the caller's environment says otherwise
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-launch-'));
    try {
      const fake = path.join(dir, 'python');
      fs.writeFileSync(fake, '#!/bin/sh\necho "store per attempt: ${TORCH_DISABLE_SHARE_RDZV_TCP_STORE:-unset}"\n', {
        mode: 0o755,
      });
      const env = { ...process.env, PYTHON: fake, TORCH_DISABLE_SHARE_RDZV_TCP_STORE: '0' };
      const r = spawnSync(path.join(job, 'launch.sh'), ['--nnodes', '2', '--rdzv-endpoint', 'node1:29500'], {
        encoding: 'utf8',
        env,
      });
      expect(r.stdout.trim(), r.stderr).toBe('store per attempt: 1');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("job.json: the studio's config, plan and split; the dataset holds the images as uint8", () => {
    const j = JSON.parse(fs.readFileSync(path.join(job, 'job.json'), 'utf8'));
    expect(j).toMatchObject({
      format: 'autoencoder-studio/torch-job',
      version: 1,
      startEpoch: 0,
      epochs: 3,
      dataset: { count: 100, shape: [28, 28, 1], train: 90, val: 10 },
    });
    expect(j.source.labelNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const h = readSafetensorsHeader(path.join(job, 'data', 'dataset.safetensors'));
    expect(h.entries.get('images')).toMatchObject({ dtype: 'U8', shape: [100, 28, 28, 1] });
    expect(h.entries.get('train_index')).toMatchObject({ dtype: 'I32', shape: [90] });
  });

  it('an untrained job is refused on import with what to do', () => {
    expect(() => readJob(job)).toThrow(JobImportError);
    expect(() => readJob(job)).toThrow(/has not trained yet: out\/checkpoint\/state.json is missing/);
    expect(() => readJob(work)).toThrow(/no job\.json/);
  });

  it('refuses a config the dataset cannot train, a model too large, and a folder with other files', async () => {
    const out = path.join(work, 'never');
    await expect(
      exportJob({
        config: { kind: 'dense', inputShape: [16, 16, 1] },
        dataset: data,
        datasetSpec: null,
        datasetName: 'd',
        name: 'x',
        out,
      }),
    ).rejects.toThrow(/16×16×1 images but the dataset has 28×28×1/);
    // options the data cannot serve are refused in the studio's words (RunImages.plan), nothing written
    const unlabelled = { images: data.images, count: data.count, shape: data.shape };
    for (const [extra, dataset, why] of [
      [{ balanceClasses: true }, unlabelled, /This dataset has no labels, so the run cannot balance classes/],
      [{ excludeLabels: [1] }, unlabelled, /This dataset has no labels, so the run cannot leave labels out/],
      [{ excludeLabels: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] }, data, /leaves no image to train on/],
      [{ loss: 'perceptual' }, data, /loss/],
    ] as const) {
      await expect(
        exportJob({
          config: { kind: 'dense', inputShape: [28, 28, 1], batchSize: 16, ...extra },
          dataset,
          datasetSpec: null,
          datasetName: 'd',
          name: 'x',
          out,
        }),
      ).rejects.toThrow(why);
    }
    expect(fs.existsSync(out)).toBe(false);
    const big = {
      images: new Uint8Array(1024 * 1024 * 4),
      count: 1,
      shape: [1024, 1024, 4] as [number, number, number],
    };
    await expect(
      exportJob({
        config: {
          kind: 'vae',
          inputShape: [1024, 1024, 4],
          hidden: [8192],
          latentDim: 4,
          validationSplit: 0,
          batchSize: 1,
        },
        dataset: big,
        datasetSpec: null,
        datasetName: 'd',
        name: 'x',
        out,
      }),
    ).rejects.toThrow(JobError);
    expect(fs.existsSync(out)).toBe(false);
    const mine = path.join(work, 'mine');
    fs.mkdirSync(mine);
    fs.writeFileSync(path.join(mine, 'notes.txt'), 'keep');
    await expect(
      exportJob({
        config: { kind: 'dense', inputShape: [28, 28, 1], batchSize: 10 },
        dataset: data,
        datasetSpec: null,
        datasetName: 'd',
        name: 'x',
        out: mine,
      }),
    ).rejects.toThrow(/other files/);
    expect(fs.readdirSync(mine)).toEqual(['notes.txt']);
  });
});

describe('ae-studio job', () => {
  it('export --config --dataset writes a job; usage errors exit 2; import refuses an untrained job and writes nothing', async () => {
    const ws = path.join(work, 'ws');
    const cfg = path.join(work, 'cfg.json');
    fs.writeFileSync(cfg, JSON.stringify({ kind: 'dense', inputShape: [28, 28, 1], latentDim: 8, epochs: 1 }));
    const lines: string[] = [];
    const errs: string[] = [];
    const out = path.join(work, 'cli-job');
    expect(
      await cli(
        ['job', 'export', '--workspace', ws, '--config', cfg, '--dataset', 'shapes', '--out', out, '--json'],
        (s) => lines.push(s),
        (s) => errs.push(s),
      ),
    ).toBe(0);
    const res = JSON.parse(lines[0]);
    expect(res).toMatchObject({ name: 'dense-shapes', startEpoch: 0, epochs: 1, images: 9000 });
    expect(JSON.parse(fs.readFileSync(path.join(out, 'job.json'), 'utf8')).source.labelNames).toEqual([
      'circle',
      'square',
      'triangle',
    ]);
    expect(
      await cli(
        ['job', 'export', '--workspace', ws, '--out', out],
        (s) => lines.push(s),
        (s) => errs.push(s),
      ),
    ).toBe(2);
    expect(errs.join('\n')).toMatch(/Give either --run ID or --config FILE --dataset NAME/);
    expect(
      await cli(
        ['job', 'export', '--workspace', ws, '--config', cfg, '--from-checkpoint', '--dataset', 'mnist', '--out', out],
        () => undefined,
        (s) => errs.push(s),
      ),
    ).toBe(2);
    expect(
      await cli(
        ['job', 'frobnicate', '--workspace', ws],
        () => undefined,
        (s) => errs.push(s),
      ),
    ).toBe(2);
    expect(
      await cli(
        ['job', 'export', '--workspace', ws, '--run', 'run-nope', '--out', path.join(work, 'x')],
        () => undefined,
        (s) => errs.push(s),
      ),
    ).toBe(1);
    expect(errs.at(-1)).toMatch(/no readable run 'run-nope'/);
    // a run.json that is JSON but not a run summary is refused in plain words, not read as one
    const odd = path.join(work, 'ws-odd');
    fs.mkdirSync(path.join(odd, 'runs', 'run-odd'), { recursive: true });
    fs.writeFileSync(
      path.join(odd, 'runs', 'run-odd', 'run.json'),
      JSON.stringify({ runId: 'run-odd', config: 'dense' }),
    );
    expect(
      await cli(
        ['job', 'export', '--workspace', odd, '--run', 'run-odd', '--out', path.join(work, 'x-odd')],
        () => undefined,
        (s) => errs.push(s),
      ),
    ).toBe(1);
    expect(errs.at(-1)).toMatch(/no readable run 'run-odd'.*it does not describe a run \(status: /);
    expect(fs.existsSync(path.join(work, 'x-odd'))).toBe(false);
    expect(
      await cli(
        ['job', 'import', out, '--workspace', ws],
        () => undefined,
        (s) => errs.push(s),
      ),
    ).toBe(1);
    expect(errs.at(-1)).toMatch(/has not trained yet/);
    expect(fs.existsSync(path.join(ws, 'runs'))).toBe(false);
  }, 60_000);
});

describe("train.py's known kinds and losses", () => {
  it("are the studio's kinds and the export's losses, so a new kind or loss is refused by both, not trained differently", async () => {
    const { MODEL_KINDS } = await import('../../../../src-main/contract');
    const { JOB_LOSSES } = await import('../../../../src-main/cluster/export');
    const tuple = (name: string) =>
      [...(new RegExp(`^${name} = \\(([^)]*)\\)`, 'm').exec(TRAIN_PY)?.[1] ?? '').matchAll(/"([^"]+)"/g)].map(
        (m) => m[1],
      );
    expect(tuple('KNOWN_KINDS')).toEqual([...MODEL_KINDS]);
    expect(tuple('KNOWN_LOSSES')).toEqual([...JOB_LOSSES]);
  });
});
