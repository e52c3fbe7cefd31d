// What generated images of a rare class buy, measured end to end with the studio's own pieces (used
// by `npm run bench:rare` and by test/integration/rare-class.test.ts on a tiny setup):
//   1. an imbalanced labelled dataset cut from a built-in (`perClass` images per class, the rare
//      class cut to `rareCount`) is written into a workspace's store; a balanced set of real images
//      the run never sees (`testPerClass` per class) is kept apart as the test set;
//   2. a conv VAE is trained on the dataset by the REAL trainer process, through the host;
//   3. for each sampler and seed, `ae-studio generate --label RARE --sampler S --into-dataset …`
//      (the CLI's own code, in-process) makes `generated` images of the rare class into a new
//      dataset of the store, its rows marked as generated in the manifest;
//   4. the linear probe on codes and the small classifier are trained on the training images as
//      they are, with class-balanced sampling, and with each sampler's generated images added —
//      once per seed — and scored per class on the real test images (engine/generation/rare.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { EventName } from '../../src-main/contract';
import { createHost } from '../../src-main/host';
import { makeBuiltin } from '../../src-main/datasets/builtins';
import { generatedMask, loadDataset, writeDataset } from '../../src-main/datasets/store';
import { generateCommand } from '../../src-main/cli/generate';
import { loadTrained } from '../../src-main/engine/trained-model';
import type { Dataset } from '../../src-main/engine/data';
import {
  classIndices,
  classifierScores,
  codesOf,
  concatDatasets,
  probeScores,
  type ClassScores,
} from '../../src-main/engine/generation';
import { createTestSupervisor, runCompleted } from '../helpers/trainer';

export interface RareStudyOptions {
  workspace: string;
  dataset: 'mnist' | 'fashion-mnist';
  /** Training images per class, and of the rare class. */
  perClass: number;
  rareCount: number;
  /** The rare class (a label number). */
  rareLabel: number;
  /** Real test images per class (never trained on). */
  testPerClass: number;
  vaeEpochs: number;
  latentDim: number;
  /** Generated images of the rare class added in the generated arms. */
  generated: number;
  samplers: Array<'diagonal' | 'full' | 'gmm' | 'two-stage'>;
  seeds: number[];
  classifierEpochs: number;
  /** Called with a line of progress now and then. */
  log?: (s: string) => void;
}

export interface StudyRow {
  learner: 'probe on codes' | 'small classifier';
  /** 'real', 'balanced', or 'generated (SAMPLER)'. */
  arm: string;
  seed: number;
  scores: ClassScores;
}

export interface RareStudyResult {
  dataset: string;
  labelNames: string[];
  rareLabel: number;
  trainCounts: number[];
  testCount: number;
  runId: string;
  vaeSec: number;
  /** Each generated dataset: where it went and how many of its rows the manifest marks as generated. */
  generatedSets: Array<{
    sampler: string;
    seed: number;
    id: string;
    /** The sampler fitted to the rare class's codes, in words (the mixture's k), and to how many codes. */
    description: string;
    fittedOn: number;
    count: number;
    markedGenerated: number;
    labels: string[];
  }>;
  rows: StudyRow[];
}

/** The median of some numbers (NaN when there are none). */
export function median(v: number[]): number {
  const s = v.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The imbalanced training set and the balanced test set, cut from the built-in in its order. */
function cut(o: RareStudyOptions) {
  const raw = makeBuiltin(o.dataset);
  const size = raw.shape[0] * raw.shape[1] * raw.shape[2];
  const classes = raw.labelNames.length;
  const want = (l: number) => (l === o.rareLabel ? o.rareCount : o.perClass);
  const inTrain = new Array<number>(classes).fill(0);
  const inTest = new Array<number>(classes).fill(0);
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < raw.count; i++) {
    const l = raw.labels[i];
    // the rare class's test images come after its first perClass images, like every other class's
    if (inTrain[l] < o.perClass) {
      if (inTrain[l] < want(l)) train.push(i);
      inTrain[l]++;
    } else if (inTest[l] < o.testPerClass) {
      test.push(i);
      inTest[l]++;
    }
  }
  const pick = (rows: number[]): Dataset & { images: Uint8Array; labels: Int32Array } => {
    const images = new Uint8Array(rows.length * size);
    rows.forEach((r, k) => images.set(raw.images.subarray(r * size, (r + 1) * size), k * size));
    return { images, labels: Int32Array.from(rows, (r) => raw.labels[r]), count: rows.length, shape: raw.shape };
  };
  return { train: pick(train), test: pick(test), labelNames: raw.labelNames };
}

export async function rareStudy(o: RareStudyOptions): Promise<RareStudyResult> {
  const log = o.log ?? (() => {});
  const { train, test, labelNames } = cut(o);
  const classes = labelNames.map((_, i) => i);
  const rareName = labelNames[o.rareLabel];
  const trainCounts = classes.map((c) => train.labels.filter((l) => l === c).length);
  const stored = await writeDataset(
    o.workspace,
    `${o.dataset} with few '${rareName}'`,
    { ...train, labelNames },
    { kind: 'builtin', builtin: o.dataset },
  );

  // the conv VAE, trained by the real trainer process through the host
  const host = createHost({
    mode: 'cli',
    version: 'bench',
    trainer: createTestSupervisor(),
    workspaceDir: o.workspace,
  });
  const events: Array<[EventName, unknown]> = [];
  host.subscribe((name, payload) => events.push([name, payload]));
  let runId: string;
  const t0 = performance.now();
  try {
    const r = await host.dispatch('runs:start', {
      config: {
        kind: 'conv-vae',
        inputShape: train.shape,
        latentDim: o.latentDim,
        epochs: o.vaeEpochs,
        batchSize: 64,
        validationSplit: 0.1,
        seed: 1,
      },
      dataset: { id: stored.id },
    });
    if (!r.ok) throw new Error(`could not start the VAE: ${r.error.message}`);
    runId = (r.result as { runId: string }).runId;
    await runCompleted(events, runId, 3_600_000);
  } finally {
    await host.dispose();
  }
  const vaeSec = (performance.now() - t0) / 1000;
  log(`${o.dataset}: conv VAE trained (${vaeSec.toFixed(0)} s)`);

  // the rare class generated through `ae-studio generate --label` into new datasets of the store
  const generatedSets: RareStudyResult['generatedSets'] = [];
  const generated = new Map<string, Dataset>();
  for (const sampler of o.samplers)
    for (const seed of o.seeds) {
      const out: string[] = [];
      const argv = ['--workspace', o.workspace, '--run', runId, '--sampler', sampler, '--label', rareName];
      argv.push('--count', String(o.generated), '--into-dataset', `generated ${sampler} ${seed}`);
      argv.push('--seed', String(seed), '--json');
      const code = await generateCommand(argv, (s) => out.push(s));
      if (code !== 0) throw new Error(`generate ${argv.join(' ')} exited with ${code}`);
      const said = JSON.parse(out[0]) as { dataset: { id: string }; description: string; fittedOn: number };
      const id = said.dataset.id;
      const d = loadDataset(o.workspace, id);
      const dl = d.labels ?? new Int32Array(d.count);
      generatedSets.push({
        sampler,
        seed,
        id,
        description: said.description,
        fittedOn: said.fittedOn,
        count: d.count,
        markedGenerated: generatedMask(d.manifest).reduce((a, b) => a + b, 0),
        labels: [...new Set(Array.from(dl, (l) => d.manifest.labelNames[l]))],
      });
      // its rows carry the rare class's label name: as a class index of the training set
      const labels = Int32Array.from(dl, (l) => labelNames.indexOf(d.manifest.labelNames[l]));
      generated.set(`${sampler} ${seed}`, { images: d.images, labels, count: d.count, shape: d.shape });
    }
  log(`${o.dataset}: ${generatedSets.length} sets of ${o.generated} generated '${rareName}' images`);

  const rows: StudyRow[] = [];
  const model = await loadTrained(path.join(o.workspace, 'runs', runId));
  try {
    const d = model.config.latentDim;
    const trainY = classIndices(train, classes);
    const testY = classIndices(test, classes);
    const trainCodes = codesOf(model, train);
    const testCodes = codesOf(model, test);
    for (const seed of o.seeds) {
      for (const arm of ['real', 'balanced'] as const)
        rows.push({
          learner: 'probe on codes',
          arm,
          seed,
          scores: probeScores(trainCodes, trainY, testCodes, testY, d, classes.length, arm, seed),
        });
      for (const sampler of o.samplers) {
        const g = generated.get(`${sampler} ${seed}`)!;
        const both = concatDatasets(train, g);
        const codes = new Float32Array(both.count * d);
        codes.set(trainCodes);
        codes.set(codesOf(model, g), trainCodes.length);
        rows.push({
          learner: 'probe on codes',
          arm: `generated (${sampler})`,
          seed,
          scores: probeScores(codes, classIndices(both, classes), testCodes, testY, d, classes.length, 'real', seed),
        });
      }
      const opts = { seed, epochs: o.classifierEpochs };
      for (const arm of ['real', 'balanced'] as const)
        rows.push({
          learner: 'small classifier',
          arm,
          seed,
          scores: await classifierScores(train, test, classes, arm, opts),
        });
      for (const sampler of o.samplers)
        rows.push({
          learner: 'small classifier',
          arm: `generated (${sampler})`,
          seed,
          scores: await classifierScores(
            concatDatasets(train, generated.get(`${sampler} ${seed}`)!),
            test,
            classes,
            'real',
            opts,
          ),
        });
      log(`${o.dataset}: seed ${seed} done`);
    }
  } finally {
    model.dispose();
  }
  return {
    dataset: o.dataset,
    labelNames,
    rareLabel: o.rareLabel,
    trainCounts,
    testCount: test.count,
    runId,
    vaeSec,
    generatedSets,
    rows,
  };
}

/** The median over seeds of each learner and arm: overall, per class. */
export function medians(r: RareStudyResult): Array<{ learner: string; arm: string; seeds: number } & ClassScores> {
  const keys = [...new Set(r.rows.map((x) => `${x.learner}\u0000${x.arm}`))];
  return keys.map((k) => {
    const [learner, arm] = k.split('\u0000');
    const rs = r.rows.filter((x) => x.learner === learner && x.arm === arm);
    return {
      learner,
      arm,
      seeds: rs.length,
      accuracy: median(rs.map((x) => x.scores.accuracy)),
      perClass: r.labelNames.map((_, c) => median(rs.map((x) => x.scores.perClass[c]))),
    };
  });
}

/** Keeps the workspace folder tidy for a caller that made it. */
export function removeWorkspace(ws: string): void {
  fs.rmSync(ws, { recursive: true, force: true });
}
