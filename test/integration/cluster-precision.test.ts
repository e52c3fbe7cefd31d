// train.py's speed options against its float32 training, on CPU here (PyTorch 2.13 CPU from the
// local pip index): one conv job, trained three epochs from the same initial weights in one Python
// process (py/job_parity.py) with each option into its own out/ folder:
//  - --precision bf16 (autocast to bfloat16): the loss trajectory follows float32's within 3 %
//    and falls as it does;
//  - --channels-last: the same arithmetic in another memory layout, within 1e-4;
//  - --compile (torch.compile): either it compiles, or training goes on without it with a
//    message; the trajectory stays within 1e-4 of float32 either way;
//  - --precision fp16 on CPU is refused in plain words, naming bf16 as the nearest that runs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src-main/engine';
import { exportJob } from '../../src-main/cluster/export';
import { TORCH_REQUIREMENTS, ensurePyEnv } from '../helpers/pyenv';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = ensurePyEnv(TORCH_REQUIREMENTS);
let work: string;
let jobDir: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-cluster-precision-'));
  jobDir = path.join(work, 'job');
  await exportJob({
    config: { kind: 'conv', inputShape: [28, 28, 1], latentDim: 8, hidden: [8, 16], batchSize: 16, epochs: 3, seed: 5 },
    dataset: loadMnist(320, { seed: 2 }),
    datasetSpec: null,
    datasetName: 'digits',
    name: 'precision',
    out: jobDir,
  });
}, 120_000);
afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const losses = (out: string) =>
  fs
    .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { train_loss: number; val_loss: number; samples_per_sec: number });

describe('train.py --precision, --channels-last, --compile', () => {
  it('bf16 follows the float32 loss trajectory; channels-last and compile match it', () => {
    const variants: Record<string, string[]> = {
      fp32: [],
      bf16: ['--precision', 'bf16'],
      cl: ['--channels-last'],
      compile: ['--compile'],
    };
    const req = path.join(work, 'req.json');
    fs.writeFileSync(
      req,
      JSON.stringify(
        Object.fromEntries(
          Object.entries(variants).map(([k, a]) => [
            k,
            { op: 'train', epochs: 3, args: ['--out', path.join(work, `out-${k}`), ...a] },
          ]),
        ),
      ),
    );
    const started = Date.now();
    const r = spawnSync(env.python, [path.join(here, 'py', 'job_parity.py'), jobDir, req, `${req}.out`], {
      encoding: 'utf8',
      timeout: 540_000,
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    if (r.status !== 0) throw new Error(`job_parity.py failed (${r.status ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
    const m = Object.fromEntries(Object.keys(variants).map((k) => [k, losses(path.join(work, `out-${k}`))]));
    const compiled = !/torch\.compile (is not available|did not work) here/.test(r.stdout);
    const rel = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]) / b[i]));
    const tl = (k: string) => m[k].map((e) => e.train_loss);
    const vl = (k: string) => m[k].map((e) => e.val_loss);
    console.log(
      `3 epochs of conv on 288 digits (${((Date.now() - started) / 1000).toFixed(1)} s in all): ` +
        Object.keys(variants)
          .map(
            (k) =>
              `${k} ${tl(k)
                .map((v) => v.toFixed(5))
                .join(' / ')} (${Math.round(m[k].at(-1)!.samples_per_sec)} samples/s)`,
          )
          .join('; ') +
        `; bf16 vs fp32 max relative diff ${rel(tl('bf16'), tl('fp32')).toExponential(2)}; torch.compile ${compiled ? 'compiled' : 'fell back: ' + /torch\.compile[^\n]*/.exec(r.stdout)![0]}`,
    );
    expect(r.stdout).toMatch(/precision bf16/);
    // the trajectory really moves (a bf16 run that did not train would not pass the comparisons below by luck)
    for (const k of Object.keys(variants)) expect(tl(k)[2]).toBeLessThan(tl(k)[0] * 0.9);
    expect(rel(tl('bf16'), tl('fp32'))).toBeLessThan(0.03);
    expect(rel(vl('bf16'), vl('fp32'))).toBeLessThan(0.03);
    // and bf16 is not float32 in disguise
    expect(rel(tl('bf16'), tl('fp32'))).toBeGreaterThan(1e-7);
    expect(rel(tl('cl'), tl('fp32'))).toBeLessThan(1e-4);
    expect(rel(tl('compile'), tl('fp32'))).toBeLessThan(1e-4);
  }, 600_000);

  it('--precision fp16 on CPU is refused, naming the nearest that runs', () => {
    const r = spawnSync(
      env.python,
      [path.join(jobDir, 'train.py'), '--precision', 'fp16', '--out', path.join(work, 'out-fp16')],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--precision fp16 needs a CUDA GPU .*use --precision bf16, the nearest that runs here/);
    expect(fs.existsSync(path.join(work, 'out-fp16', 'checkpoint'))).toBe(false);
  }, 120_000);
});
