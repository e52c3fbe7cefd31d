// The code the Export view shows beside a model export, run exactly as written: the
// TensorFlow.js one in Node with tfjs-node, the Keras one with Keras 3 on TensorFlow, the ONNX one
// with onnxruntime (the venv of test/helpers/pyenv.ts), for a conv AE's whole model and a VAE's
// encoder (two outputs) and decoder. Each prints the shapes it got; they must be the model's.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist, loadTrained, trainRun, type TrainedModel } from '../../src-main/engine';
import { exportModel } from '../../src-main/formats';
import { exportSnippet, type SnippetInput } from '../../src-main/contract';
import { ensurePyEnv, type PyEnv } from '../helpers/pyenv';
import { repoRoot } from '../helpers/trainer';

let env: PyEnv;
let work: string;
const models = new Map<string, TrainedModel>();
const digits = loadMnist(300, { seed: 5 });

beforeAll(async () => {
  env = ensurePyEnv();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-snippets-'));
  for (const [name, cfg] of Object.entries({
    conv: { kind: 'conv', latentDim: 16 },
    vae: { kind: 'vae', latentDim: 4, hidden: [32], loss: 'bce' },
  })) {
    const runDir = path.join(work, 'runs', name);
    const r = await trainRun({
      config: { ...cfg, inputShape: [28, 28, 1], epochs: 1, batchSize: 50 },
      dataset: digits,
      runDir,
    });
    expect(r.status, r.message).toBe('completed');
    models.set(name, await loadTrained(runDir));
  }
}, 10 * 60_000);
afterAll(() => {
  for (const m of models.values()) m.dispose();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** Exports, writes the snippet next to the export (where a user would run it), runs it, returns what it printed. */
async function runSnippet(model: string, format: SnippetInput['format'], part: SnippetInput['part']): Promise<string> {
  const t = models.get(model)!;
  const dir = path.join(work, 'exports', `${model}-${format}-${part}`);
  fs.mkdirSync(dir, { recursive: true });
  const fileName = format === 'tfjs' ? `${model}-${part}` : `${model}-${part}.${format}`;
  await exportModel(t, { format, part, out: path.join(dir, fileName) });
  const s = exportSnippet({
    format,
    part,
    fileName,
    inputShape: [28, 28, 1],
    latentDim: t.config.latentDim,
    vae: model === 'vae',
  });
  const file = path.join(dir, s.language === 'python' ? 'use.py' : 'use.cjs');
  fs.writeFileSync(file, s.code);
  const r =
    s.language === 'python'
      ? spawnSync(env.python, [file], {
          cwd: dir,
          encoding: 'utf8',
          timeout: 300_000,
          env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', KERAS_BACKEND: 'tensorflow' },
        })
      : spawnSync(process.execPath, [file], {
          cwd: dir,
          encoding: 'utf8',
          timeout: 120_000,
          env: { ...process.env, NODE_PATH: path.join(repoRoot, 'node_modules'), TF_CPP_MIN_LOG_LEVEL: '3' },
        });
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout.trim().split('\n').at(-1) ?? '';
}

describe('export snippets, run as shown', () => {
  it('TensorFlow.js in Node: whole conv AE, VAE encoder and decoder', async () => {
    expect(await runSnippet('conv', 'tfjs', 'full')).toBe('[1,28,28,1]');
    expect(await runSnippet('vae', 'tfjs', 'encoder')).toBe('[1,4] [1,4]');
    expect(await runSnippet('vae', 'tfjs', 'decoder')).toBe('[1,28,28,1]');
  });
  it('Keras 3 in Python', async () => {
    expect(await runSnippet('conv', 'keras', 'full')).toBe('[1,28,28,1]');
    expect(await runSnippet('vae', 'keras', 'encoder')).toBe('[1,4] [1,4]');
  });
  it('onnxruntime in Python', async () => {
    expect(await runSnippet('conv', 'onnx', 'full')).toBe('[1,28,28,1]');
    expect(await runSnippet('vae', 'onnx', 'decoder')).toBe('[1,28,28,1]');
  });
});
