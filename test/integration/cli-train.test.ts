// `ae-studio train` / `ae-studio runs` as a user runs them: the built CLI (dist-main/cli.cjs) in
// its own process, training in the REAL trainer process on built-in MNIST, Ctrl-C delivered to
// the whole process group as a terminal does, resume, and the errors a bad config or an unknown
// dataset give.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/trainer';
import { isTensorFlowNoise } from '../../src-main/cli/quiet';
import { progressLine } from '../../src-main/cli/train';

const cliPath = path.join(repoRoot, 'dist-main', 'cli.cjs');
// A user's shell: no TF_CPP_MIN_LOG_LEVEL (the test runner sets one).
const { TF_CPP_MIN_LOG_LEVEL: _quiet, ...userEnv } = process.env;
let work: string;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to the end; `onLine` sees each stdout line as it comes (with the child, to signal it). */
function cli(args: string[], onLine?: (line: string, child: ReturnType<typeof spawn>) => void): Promise<Result> {
  return new Promise((resolve, reject) => {
    // detached: its own process group, so a "Ctrl-C" can go to the CLI and its trainer together
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: userEnv,
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout += d;
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) onLine?.(l, child);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const jsonLines = (s: string) =>
  s
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(() => {
  // The test drives the built CLI and trainer bundles; build them so a lone run of this file is current.
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'build-main.mjs')], {
    cwd: repoRoot,
    stdio: 'ignore',
  });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-cli-train-'));
  fs.writeFileSync(
    path.join(work, 'conv.json'),
    JSON.stringify({ kind: 'conv', latentDim: 16, epochs: 2, batchSize: 64, seed: 7 }),
  );
  fs.writeFileSync(
    path.join(work, 'long.json'),
    JSON.stringify({ kind: 'conv', latentDim: 16, epochs: 12, batchSize: 64, seed: 7 }),
  );
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('ae-studio train / runs', () => {
  it('trains a conv autoencoder on built-in MNIST in the trainer process and lists it', async () => {
    const ws = path.join(work, 'ws-a');
    const r = await cli([
      'train',
      '--workspace',
      ws,
      '--dataset',
      'mnist',
      '--count',
      '1500',
      '--config',
      'conv.json',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines[0]).toMatchObject({ type: 'start', resumed: false });
    const epochs = lines.filter((l) => l.type === 'epoch');
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(lines.filter((l) => l.type === 'step')).toEqual([
      { runId: lines[0].runId, type: 'step', step: 'graph', reason: null, fallback: false },
    ]);
    const end = lines.at(-1) as Record<string, unknown>;
    expect(end).toMatchObject({ type: 'end', status: 'completed', epochsDone: 2 });
    expect(end.loss).toBe(epochs[1].loss);
    expect(end.valLoss as number).toBeGreaterThan(0);
    expect(end.valLoss as number).toBeLessThan(0.1); // an untrained conv AE sits near 0.11 on MNIST
    expect(end.samplesPerSec as number).toBeGreaterThan(0);
    const runDir = end.runDir as string;
    expect(fs.existsSync(path.join(runDir, 'model', 'encoder', 'model.json'))).toBe(true);
    // TensorFlow's start-up INFO lines stay off stderr without --verbose
    expect(r.stderr.split('\n').filter(isTensorFlowNoise)).toEqual([]);

    const listed = await cli(['runs', '--workspace', ws, '--json']);
    expect(listed.code).toBe(0);
    const runs = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      runId: end.runId,
      status: 'completed',
      epochsDone: 2,
      datasetName: 'MNIST (built in)',
      final: { epochsDone: 2, loss: end.loss, valLoss: end.valLoss },
    });
    expect((runs[0].config as Record<string, unknown>).kind).toBe('conv');
    expect(runs[0].step, 'the host records the training step in run.json').toEqual({
      step: 'graph',
      reason: null,
      fallback: false,
    });

    const table = await cli(['runs', '--workspace', ws]);
    expect(table.stdout).toMatch(
      new RegExp(`${end.runId as string}\\s+completed\\s+conv, 16-d code\\s+MNIST \\(built in\\)\\s+2/2`),
    );

    // the same workspace's run exports through the CLI (tfjs-node in the CLI's process) without TensorFlow's chatter
    const exported = await cli([
      'export',
      '--workspace',
      ws,
      '--run',
      end.runId as string,
      '--format',
      'onnx',
      '--out',
      path.join(work, 'a.onnx'),
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr.split('\n').filter(isTensorFlowNoise)).toEqual([]);
    const verbose = await cli([
      'export',
      '--workspace',
      ws,
      '--run',
      end.runId as string,
      '--format',
      'onnx',
      '--out',
      path.join(work, 'b.onnx'),
      '--verbose',
    ]);
    expect(verbose.code).toBe(0);
    expect(
      verbose.stderr.split('\n').filter(isTensorFlowNoise).length,
      'with --verbose TensorFlow speaks',
    ).toBeGreaterThan(0);
  });

  it('Ctrl-C stops after the current batch with a checkpoint, and --resume finishes the run', async () => {
    const ws = path.join(work, 'ws-b');
    let signalled = false;
    const r = await cli(
      ['train', '--workspace', ws, '--dataset', 'mnist', '--count', '2000', '--config', 'long.json', '--json'],
      (line, child) => {
        if (!signalled && line.includes('"type":"epoch"')) {
          signalled = true;
          process.kill(-(child.pid as number), 'SIGINT'); // the whole group, as a terminal's Ctrl-C: the CLI and its trainer
        }
      },
    );
    expect(signalled).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    const end = jsonLines(r.stdout).at(-1) as Record<string, unknown>;
    expect(end).toMatchObject({ type: 'end', status: 'stopped' });
    const done = end.epochsDone as number;
    expect(done).toBeGreaterThanOrEqual(1);
    expect(done).toBeLessThan(12);
    expect(end.resume).toBe(`ae-studio train --workspace ${ws} --resume ${end.runId as string}`);
    const state = JSON.parse(fs.readFileSync(path.join(end.runDir as string, 'checkpoint', 'state.json'), 'utf8')) as {
      epochsDone: number;
    };
    expect(state.epochsDone).toBe(done);
    // no trainer left behind: the run's folder is not written to any more
    const listed = JSON.parse((await cli(['runs', '--workspace', ws, '--json'])).stdout) as Array<
      Record<string, unknown>
    >;
    // the host decides what the run offers: no model yet, Resume from its checkpoint
    expect(listed[0]).toMatchObject({
      runId: end.runId,
      status: 'stopped',
      epochsDone: done,
      hasModel: false,
      resume: 'checkpoint',
    });

    const resumed = await cli(['train', '--workspace', ws, '--resume', end.runId as string, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const lines = jsonLines(resumed.stdout);
    expect(lines[0]).toMatchObject({ type: 'start', runId: end.runId, resumed: true });
    expect(lines.filter((l) => l.type === 'epoch').map((l) => l.epoch)).toEqual(
      Array.from({ length: 12 - done }, (_, i) => done + 1 + i),
    );
    expect(lines.at(-1)).toMatchObject({ type: 'end', runId: end.runId, status: 'completed', epochsDone: 12 });
    const after = JSON.parse((await cli(['runs', '--workspace', ws, '--json'])).stdout) as Array<{
      history: { loss: number[] };
      hasModel: boolean;
      resume?: string;
    }>;
    expect(after[0].history.loss).toHaveLength(12);
    expect(after[0]).toMatchObject({ hasModel: true });
    expect(after[0].resume).toBeUndefined();
    expect(after[0].history.loss.every(Number.isFinite)).toBe(true);

    const again = await cli(['train', '--workspace', ws, '--resume', end.runId as string]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/has finished; start a new run/);
  });

  it("trains the file the Model view shows ({ config, dataset } as Train starts it), no --dataset needed; ends with the measures on training, validation and test images; --verbose shows the trainer's TensorFlow lines", async () => {
    const ws = path.join(work, 'ws-d');
    const file = {
      config: {
        kind: 'dense',
        inputShape: [28, 28, 1],
        latentDim: 8,
        epochs: 1,
        batchSize: 100,
        validationSplit: 0.1,
        testSplit: 0.2,
        noise: { type: 'none', level: 0 },
      },
      dataset: { builtin: 'mnist', count: 500 },
    };
    fs.writeFileSync(path.join(work, 'from-model-view.json'), JSON.stringify(file, null, 2));
    const r = await cli(['train', '--workspace', ws, '--config', 'from-model-view.json', '--json', '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    const end = jsonLines(r.stdout).at(-1) as {
      metrics: Record<'train' | 'val' | 'test', { count: number; mse: number; psnr: number; ssim: number }>;
    };
    expect(end).toMatchObject({ type: 'end', status: 'completed', epochsDone: 1 });
    // --verbose passes the trainer process's TensorFlow log lines on (the first test: hidden without it)
    expect(
      r.stderr.split('\n').filter(isTensorFlowNoise).length,
      "with --verbose the trainer's TensorFlow speaks",
    ).toBeGreaterThan(0);
    const runs = JSON.parse((await cli(['runs', '--workspace', ws, '--json'])).stdout) as Array<{
      dataset: unknown;
      config: { latentDim: number };
      metrics: typeof end.metrics;
    }>;
    expect(runs[0].dataset).toEqual({ builtin: 'mnist', count: 500 });
    expect(runs[0].config.latentDim).toBe(8);
    // the end line carries the run's own end-of-run measures: every image in exactly one split
    expect(end.metrics.test.count).toBe(100);
    expect(end.metrics.train.count + end.metrics.val.count + end.metrics.test.count).toBe(500);
    for (const k of ['train', 'val', 'test'] as const)
      expect(end.metrics[k]).toMatchObject({
        count: runs[0].metrics[k].count,
        mse: runs[0].metrics[k].mse,
        ssim: runs[0].metrics[k].ssim,
      });
    // on a terminal: a table of the three splits under the Done line
    const text = await cli(['train', '--workspace', ws, '--config', 'from-model-view.json']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /Done: .*\n {2}measured on +images +loss +MSE +PSNR +SSIM\n {2}training +\d+ +0\.\d{4} +0\.\d{4} +\d+\.\d\d dB +-?0\.\d{3}\n {2}validation +\d+ .*\n {2}test +100 /,
    );
  });

  it('a bad config names the field, an unknown dataset names the ones there are; nothing is written', async () => {
    const ws = path.join(work, 'ws-c');
    fs.writeFileSync(path.join(work, 'bad.json'), JSON.stringify({ kind: 'conv', latentDim: 0, epochs: 2 }));
    const bad = await cli(['train', '--workspace', ws, '--dataset', 'mnist', '--config', 'bad.json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/latentDim: must be at least 1/);

    fs.writeFileSync(path.join(work, 'shape.json'), JSON.stringify({ kind: 'conv', inputShape: [30, 30, 1] }));
    const shape = await cli(['train', '--workspace', ws, '--dataset', 'mnist', '--config', 'shape.json']);
    expect(shape.code).toBe(2);
    expect(shape.stderr).toMatch(/inputShape: /);

    fs.writeFileSync(path.join(work, 'broken.json'), '{"kind": "conv",');
    const broken = await cli(['train', '--workspace', ws, '--dataset', 'mnist', '--config', 'broken.json']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/is not valid JSON/);

    const unknown = await cli(['train', '--workspace', ws, '--dataset', 'cats', '--config', 'conv.json']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/There is no dataset 'cats'.*Datasets there: mnist \(built in\)/);

    const added = await cli(['builtin', 'shapes', '--workspace', ws, '--json']);
    const shapes = JSON.parse(added.stdout) as { id: string };
    const unknown2 = await cli(['train', '--workspace', ws, '--dataset', 'fashion-mnist', '--config', 'conv.json']);
    expect(unknown2.stderr).toContain(`${shapes.id} (Shapes, 9000 images)`);
    expect(unknown2.stderr).toContain(`ae-studio builtin fashion-mnist --workspace ${ws}`);

    expect(fs.existsSync(path.join(ws, 'runs'))).toBe(false);
    expect((await cli(['runs', '--workspace', ws])).stdout).toMatch(/No runs in/);
  });
});

describe('CLI output helpers', () => {
  it('draws a progress bar with loss, samples/s and ETA', () => {
    expect(
      progressLine(
        { epoch: 2, epochs: 4, batch: 5, batches: 10, loss: 0.03125, samplesPerSec: 12345.6, etaSec: 83 },
        8,
      ),
    ).toBe('epoch 2/4 [###-----]  37% · batch 5/10 · loss 0.0313 · 12,346 samples/s · ETA 1:23');
  });
  it("recognises TensorFlow's log lines and nothing else", () => {
    expect(
      isTensorFlowNoise('I0000 00:00:1796178502.791165    5175 port.cc:153] oneDNN custom operations are on.'),
    ).toBe(true);
    expect(isTensorFlowNoise('W0000 00:00:1796178502.791165    5175 loader.cc:12] x')).toBe(true);
    expect(
      isTensorFlowNoise('2026-12-02 02:31:23.123456: I tensorflow/cc/saved_model/loader.cc:83] Reading SavedModel'),
    ).toBe(true);
    expect(
      isTensorFlowNoise('WARNING: All log messages before absl::InitializeLog() is called are written to STDERR'),
    ).toBe(true);
    expect(isTensorFlowNoise('E0000 00:00:1796178502.791165    5175 x.cc:1] a real error')).toBe(false);
    expect(isTensorFlowNoise("ae-studio: There is no run 'x'")).toBe(false);
  });
});
