// Using what a model learned, end to end through the host and the REAL trainer process: a dense AE
// trained on built-in MNIST with digit 2 left out and a test split, its end-of-run metrics per split,
// `evaluate:run` (probes, per-label errors, histogram, ROC) — whose AUC and ROC curve are checked
// against scikit-learn's roc_auc_score / roc_curve on the very same scores — and the headless
// `ae-studio evaluate` command on the same workspace.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../src-main/host';
import type { CallRes, EventName, RunSummary } from '../../src-main/contract';
import { createTestSupervisor, runCompleted } from '../helpers/trainer';
import { okResult } from '../helpers/host-results';
import { ensurePyEnv, runPython } from '../helpers/pyenv';
import { main } from '../../src-main/cli/main';
import { runCli } from '../helpers/cli';

let host: Host;
let workspace: string;
let runId: string;
const events: Array<[EventName, unknown]> = [];

beforeAll(async () => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-evaluate-'));
  host = createHost({ mode: 'serve', version: 'test', trainer: createTestSupervisor(), workspaceDir: workspace });
  host.subscribe((name, payload) => events.push([name, payload]));
  const config = {
    kind: 'dense',
    inputShape: [28, 28, 1],
    latentDim: 32,
    epochs: 3,
    batchSize: 64,
    validationSplit: 0.2,
    testSplit: 0.1,
    excludeLabels: [2],
  };
  const r = await host.dispatch('runs:start', { config, dataset: { builtin: 'mnist', count: 4000 } });
  runId = okResult<{ runId: string }>(r).runId;
  await runCompleted(events, runId);
}, 240_000);
afterAll(async () => {
  await host?.dispose();
});

async function evaluate(anomalous: number[]): Promise<CallRes<'evaluate:run'>> {
  const r = await host.dispatch('evaluate:run', { runId, anomalous });
  expect(r.ok, JSON.stringify(r).slice(0, 500)).toBe(true);
  return (r as { ok: true; result: CallRes<'evaluate:run'> }).result;
}

describe('a run trained without digit 2, with a test split', () => {
  it('ends with metrics on train, validation and test images and says which step it ran on', async () => {
    const list = (await host.dispatch('runs:list', {})) as { ok: true; result: RunSummary[] };
    const run = list.result.find((r) => r.runId === runId)!;
    expect(run.step).toEqual({ step: 'graph', reason: null, fallback: false });
    const m = run.metrics!;
    expect(m.test!.count).toBe(400);
    expect(m.val!.count).toBeLessThan(800); // the validation images of digit 2 are left out too
    expect(m.trainLabelCounts!.map((l) => l.label)).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9]);
    expect(m.test!.perLabel!.find((l) => l.label === 2)!.mse).toBeGreaterThan(m.test!.mse); // the unseen digit reconstructs worse
    const metricsEvent = events.find(
      ([n, p]) => n === 'runs:event' && (p as { event: { type: string } }).event.type === 'metrics',
    );
    expect(metricsEvent).toBeDefined();
  });

  it('evaluate:run gives the probes, per-label errors and histogram from the trainer; the ROC and AUC match scikit-learn on the same scores', async () => {
    const plain = await evaluate([]);
    expect(plain.anomaly).toBeUndefined();
    expect(plain.labelNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(plain.probes!.linear.codes.accuracy).toBeGreaterThan(0.7);
    expect(plain.probes!.knn.codes.accuracy).toBeGreaterThan(0.7);
    expect(plain.above[0]).toBe(plain.counts.scored);
    expect(plain.edges).toHaveLength(plain.histogram.bins + 1);
    expect(plain.edges.at(-1)).toBeCloseTo(plain.histogram.hi, 12);
    expect(plain.worst.originals.length).toBe(48);
    expect(Buffer.from(plain.worst.originals[0], 'base64').length).toBe(784);

    const e = await evaluate([2]);
    const a = e.anomaly!;
    console.log(`AUC for digit 2 (never trained on): ${a.auc.toFixed(4)} — ${a.positives} vs ${a.negatives}`);
    expect(a.auc).toBeGreaterThan(0.7);
    // scikit-learn on the scores the trainer exported
    const csvFile = path.join(workspace, 'scores.csv');
    fs.writeFileSync(csvFile, e.csv);
    const env = ensurePyEnv(['scikit-learn', 'numpy']);
    const script = path.join(workspace, 'auc.py');
    fs.writeFileSync(
      script,
      [
        'import sys, json, numpy as np',
        'from sklearn.metrics import roc_auc_score, roc_curve',
        "d = np.genfromtxt(sys.argv[1], delimiter=',', names=True)",
        "y, s = d['anomalous'].astype(int), d['mse']",
        'fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)',
        "print('RESULT ' + json.dumps({'auc': float(roc_auc_score(y, s)), 'n': int(len(y)), 'pos': int(y.sum()), 'fpr': fpr.tolist(), 'tpr': tpr.tolist()}))",
      ].join('\n'),
    );
    const out = JSON.parse(
      runPython(env, script, [csvFile])
        .split('\n')
        .find((l) => l.startsWith('RESULT '))!
        .slice(7),
    ) as { auc: number; n: number; pos: number; fpr: number[]; tpr: number[] };
    console.log(`scikit-learn roc_auc_score: ${out.auc.toFixed(6)} (studio ${a.auc.toFixed(6)})`);
    expect(out.n).toBe(e.counts.scored);
    expect(out.pos).toBe(a.positives);
    expect(Math.abs(out.auc - a.auc)).toBeLessThan(1e-9);
    // every studio ROC point lies on scikit-learn's curve (same points, thinned to ≤ 256)
    const sk = new Set(out.fpr.map((f, i) => `${f.toFixed(9)},${out.tpr[i].toFixed(9)}`));
    for (const p of a.roc) expect(sk.has(`${p.fpr.toFixed(9)},${p.tpr.toFixed(9)}`), `${p.fpr},${p.tpr}`).toBe(true);
  }, 600_000);

  it('ae-studio evaluate prints the same measures headless, with --anomalous by label and --json', async () => {
    const { code, out, err } = await runCli(
      'evaluate',
      '--workspace',
      workspace,
      '--run',
      runId,
      '--dataset',
      'mnist',
      '--anomalous',
      '2',
      '--json',
      '--scores',
      path.join(workspace, 'cli-scores.csv'),
    );
    expect(code, err).toBe(0);
    const r = JSON.parse(out) as {
      counts: { scored: number };
      reconstruction: { mse: number; psnr: number; ssim: number };
      probes: { linear: { codes: { accuracy: number } } };
      anomaly: { auc: number };
      perLabel: unknown[];
    };
    const viaHost = await evaluate([2]);
    // the CLI reproduces the run's split (same dataset, same count): the same images and numbers as the trainer's
    expect(r.counts).toEqual(viaHost.counts);
    expect(r.anomaly.auc).toBeCloseTo(viaHost.anomaly!.auc, 6);
    expect(r.reconstruction.mse).toBeCloseTo(viaHost.reconstruction.mse, 6);
    expect(r.perLabel).toHaveLength(10);
    expect(fs.readFileSync(path.join(workspace, 'cli-scores.csv'), 'utf8').split('\n')[0]).toBe(
      'index,label,mse,anomalous',
    );

    const text: string[] = [];
    expect(
      await main(['evaluate', '--workspace', workspace, '--run', runId, '--dataset', 'mnist'], (s) => text.push(s)),
    ).toBe(0);
    const all = text.join('\n');
    expect(all).toMatch(/Reconstruction: MSE 0\.\d+ {2}PSNR \d+\.\d+ dB {2}SSIM 0\.\d+/);
    expect(all).toMatch(/codes\s+32\s+\d+\.\d%\s+\d+\.\d%/);
    expect(all).toMatch(/PCA\s+32/);
    expect(all).toMatch(/pixels\s+784/);

    const bad: string[] = [];
    expect(
      await main(
        ['evaluate', '--workspace', workspace, '--run', runId, '--dataset', 'mnist', '--anomalous', 'cat'],
        () => undefined,
        (s) => bad.push(s),
      ),
    ).toBe(2);
    expect(bad.join('\n')).toMatch(/'cat' is not a label of 'mnist'/);
    expect(
      await main(
        ['evaluate', '--workspace', workspace, '--run', 'nope', '--dataset', 'mnist'],
        () => undefined,
        (s) => bad.push(s),
      ),
    ).toBe(1);
    expect(bad.join('\n')).toMatch(/There is no run 'nope'/);
  }, 300_000);
});
