// Bringing a trained cluster job back, without Python: job.json and train.py's
// out/checkpoint (state.json, model.safetensors, optimizer.safetensors) are read and checked, the
// weights are mapped from PyTorch's layouts onto the studio's model (plan.ts), and the result is
// written as a run folder in the engine's layout (config.json, model/, checkpoint/), so the
// Gallery, Export and Resume work on it as on a run trained here.
//
// `readJob` checks everything before anything large is allocated: every file it opens must be a
// regular file inside the job folder (a symlink that leaves it is refused), JSON files are size-
// capped and schema-checked, the config must be valid and its model within MAX_PARAMETERS, and
// each safetensors file must declare exactly the plan's tensors (names, shapes, F32) with a size
// that matches, before its data is read; NaN or infinite weights are refused. Nothing is written
// until all of that passed.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { tf } from '../engine/tf';
import { validateConfig, type ModelConfig } from '../engine/config';
import { buildAutoencoder } from '../engine/models';
import { klBetaAt } from '../engine/objective';
import { writeDirAtomic, writeJsonAtomic } from '../fs-safety/atomic';
import { saveAutoencoder } from '../engine/persist';
import { fitLatentStats } from '../engine/latent-stats';
import { BatchSource, labelCounts } from '../engine/data';
import { measureSplit } from '../engine/run/measure';
import type { EndMetrics } from '../engine/train';
import { TrainedModel } from '../engine/trained-model';
import { fileInside as fileInsideDir, readJsonCapped } from '../fs-safety/safe-read';
import { jobPlan, planWeights, toTfLayout, type JobPlan, type PlanWeight } from '../engine/layer-plan';
import { CropView } from '../engine/crops';
import {
  checkExpected,
  MAX_HEADER_BYTES,
  readF32,
  readRaw,
  readSafetensorsHeader,
  SafetensorsError,
  type SafeHeader,
} from './safetensors';
import {
  JobCheckpointState,
  DoneJson,
  JOB_FILES,
  JOB_FORMAT,
  JOB_VERSION,
  JobJson,
  optimizerSlots,
  type EpochRecord,
} from './format';

/** A job folder that cannot be imported (incomplete, another version, weights that do not fit…). */
export class JobImportError extends Error {
  override readonly name = 'JobImportError';
}

const MiB = 2 ** 20;

const failJob = (message: string) => new JobImportError(message);

/** The real path of `rel` inside the job folder: a regular file that does not lead outside it. */
export function fileInside(dir: string, rel: string, what = rel): string {
  return fileInsideDir(dir, rel, what, failJob);
}

function readJson<S extends z.ZodType>(
  dir: string,
  rel: string,
  maxBytes: number,
  schema: S,
  what: string,
): z.infer<S> {
  const raw = readJsonCapped(fileInside(dir, rel, what), maxBytes, `${what} (${rel})`, failJob);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new JobImportError(
      `${what} (${rel}) is not what the studio expects: ${i.path.join('.') || '(top level)'}: ${i.message}`,
    );
  }
  return parsed.data;
}

export interface ReadJob {
  dir: string;
  job: JobJson;
  config: ModelConfig;
  plan: JobPlan;
  /** The checkpoint folder read (out/checkpoint, or out/checkpoint.old after a crash between renames). */
  checkpoint: string;
  state: JobCheckpointState;
  done?: DoneJson;
  /** Weights in PyTorch's layout, by state_dict key. */
  weights: Map<string, Float32Array>;
  /** Optimizer slots in PyTorch's layout, by `key/slot`. */
  slots: Map<string, Float32Array>;
  status: 'completed' | 'stopped';
}

/** Reads and checks a trained job folder (no tfjs, nothing written). Throws JobImportError naming what is wrong. */
export function readJob(dir: string): ReadJob {
  dir = path.resolve(dir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new JobImportError(`${dir} is not a folder.`);
  if (!fs.existsSync(path.join(dir, JOB_FILES.job)))
    throw new JobImportError(
      `${dir} has no job.json: it is not a cluster job folder written by 'ae-studio job export'.`,
    );
  // format and version first, so another version gets that message and not a schema detail
  const head = readJson(dir, JOB_FILES.job, 16 * MiB, z.record(z.string(), z.unknown()), 'job.json');
  if (head.format !== JOB_FORMAT)
    throw new JobImportError(
      `job.json is not an Autoencoder Studio cluster job (format ${JSON.stringify(head.format)}).`,
    );
  if (head.version !== JOB_VERSION)
    throw new JobImportError(
      `job.json is a version ${JSON.stringify(head.version)} job; this studio reads version ${JOB_VERSION} jobs. Export the job again from this studio.`,
    );
  const job = readJson(dir, JOB_FILES.job, 16 * MiB, JobJson, 'job.json');
  const checked = validateConfig(job.config);
  if (!checked.ok)
    throw new JobImportError(
      `job.json's configuration is not valid: ${checked.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
    );
  const config = checked.config;
  let plan: JobPlan;
  try {
    plan = jobPlan(config);
  } catch (err) {
    throw new JobImportError(`job.json's configuration cannot be built: ${(err as Error).message}.`);
  }
  const [dh, dw, dc] = job.dataset.shape;
  const fits = config.cropSize
    ? dh >= config.cropSize && dw >= config.cropSize && dc === config.inputShape[2]
    : job.dataset.shape.join('×') === config.inputShape.join('×');
  if (!fits)
    throw new JobImportError(
      config.cropSize
        ? `job.json's dataset has ${job.dataset.shape.join('×')} images, which ${config.cropSize}×${config.cropSize}×${config.inputShape[2]} crops do not fit.`
        : `job.json's dataset has ${job.dataset.shape.join('×')} images but the model takes ${config.inputShape.join('×')}.`,
    );

  const ckptRel = [JOB_FILES.checkpoint, JOB_FILES.checkpointOld].find((d) =>
    fs.existsSync(path.join(dir, d, 'state.json')),
  );
  if (!ckptRel) {
    throw new JobImportError(
      `The job has not trained yet: ${JOB_FILES.checkpoint}/state.json is missing. Run launch.sh (see README.md), then copy its out/ folder back into ${dir}.`,
    );
  }
  const state = readJson(dir, `${ckptRel}/state.json`, 64 * MiB, JobCheckpointState, 'the checkpoint state');
  if (state.history.loss.length !== state.epochsDone || state.history.valLoss.length !== state.epochsDone) {
    throw new JobImportError(
      `the checkpoint state says ${state.epochsDone} epochs but its history has ${state.history.loss.length}; the checkpoint is damaged.`,
    );
  }
  if (state.epochsDone < job.startEpoch || state.startEpoch !== job.startEpoch)
    throw new JobImportError(
      `the checkpoint (epoch ${state.epochsDone}, from ${state.startEpoch}) does not belong to this job.json (starting at epoch ${job.startEpoch}).`,
    );
  if (state.epochsDone === job.startEpoch)
    throw new JobImportError(
      `The job has not finished an epoch yet (its checkpoint is still at epoch ${state.epochsDone}).`,
    );

  // Both weight files' headers are checked against the plan before any tensor is read.
  const wts = planWeights(plan);
  const bytes = plan.parameters * 4;
  const slotNames = optimizerSlots(config.optimizer, config.momentum);
  const header = (rel: string, expected: Array<{ name: string; shape: number[] }>, dataBytes: number): SafeHeader => {
    const label = rel;
    try {
      const file = fileInside(dir, rel, rel);
      const h = readSafetensorsHeader(file, { maxFileBytes: 8 + MAX_HEADER_BYTES + dataBytes, label });
      checkExpected(h, expected, { label });
      return h;
    } catch (err) {
      if (err instanceof SafetensorsError) throw new JobImportError(err.message);
      throw err;
    }
  };
  const mh = header(
    `${ckptRel}/model.safetensors`,
    wts.map((w) => ({ name: w.key, shape: w.shape })),
    bytes,
  );
  const oh = header(
    `${ckptRel}/optimizer.safetensors`,
    slotNames.flatMap((s) => wts.map((w) => ({ name: `${w.key}/${s}`, shape: w.shape }))),
    bytes * slotNames.length,
  );
  const read = (h: SafeHeader, name: string, label: string) => {
    try {
      return readF32(h, name, label);
    } catch (err) {
      if (err instanceof SafetensorsError) throw new JobImportError(err.message);
      throw err;
    }
  };
  const weights = new Map(wts.map((w) => [w.key, read(mh, w.key, `${ckptRel}/model.safetensors`)]));
  const slots = new Map(
    slotNames.flatMap((s) =>
      wts.map((w) => [`${w.key}/${s}`, read(oh, `${w.key}/${s}`, `${ckptRel}/optimizer.safetensors`)] as const),
    ),
  );

  let done: DoneJson | undefined;
  if (fs.existsSync(path.join(dir, JOB_FILES.done))) {
    done = readJson(dir, JOB_FILES.done, MiB, DoneJson, 'done.json');
    if (done.epochsDone !== state.epochsDone) done = undefined; // a later launch trained further and has not finished
  }
  return {
    dir,
    job,
    config,
    plan,
    checkpoint: ckptRel,
    state,
    done,
    weights,
    slots,
    status: done ? 'completed' : 'stopped',
  };
}

export interface JobDataset {
  images: Uint8Array;
  labels: Int32Array;
  labelNames: string[];
  shape: [number, number, number];
  count: number;
  train: Int32Array;
  val: Int32Array;
  /** The test split (empty for jobs without one, and for jobs written before test splits). */
  test: Int32Array;
}

/** The job's own images (data/dataset.safetensors), checked against job.json before they are read. */
export function readJobDataset(r: ReadJob): JobDataset {
  const d = r.job.dataset;
  const [h, w, c] = d.shape;
  const expected = [
    { name: 'images', shape: [d.count, h, w, c], dtype: 'U8' as const },
    { name: 'labels', shape: [d.count], dtype: 'I32' as const },
    { name: 'train_index', shape: [d.train], dtype: 'I32' as const },
    { name: 'val_index', shape: [d.val], dtype: 'I32' as const },
    ...(d.test !== undefined ? [{ name: 'test_index', shape: [d.test], dtype: 'I32' as const }] : []),
  ];
  const dataBytes = d.count * h * w * c + 4 * (d.count + d.train + d.val + (d.test ?? 0));
  let hd: SafeHeader;
  try {
    hd = readSafetensorsHeader(fileInside(r.dir, JOB_FILES.dataset, 'the dataset'), {
      maxFileBytes: 8 + MAX_HEADER_BYTES + dataBytes,
      label: JOB_FILES.dataset,
    });
    checkExpected(hd, expected, { label: JOB_FILES.dataset });
  } catch (err) {
    if (err instanceof SafetensorsError) throw new JobImportError(err.message);
    throw err;
  }
  const images = readRaw(hd, 'images').bytes;
  const i32 = (name: string) => {
    const b = readRaw(hd, name).bytes;
    return new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  };
  const labels = i32('labels');
  const train = i32('train_index');
  const val = i32('val_index');
  const test = d.test !== undefined ? i32('test_index') : new Int32Array(0);
  for (const [name, idx] of [
    ['train_index', train],
    ['val_index', val],
    ['test_index', test],
  ] as const) {
    for (let i = 0; i < idx.length; i++)
      if (idx[i] < 0 || idx[i] >= d.count)
        throw new JobImportError(`${JOB_FILES.dataset}: ${name} holds ${idx[i]}, outside the ${d.count} images.`);
  }
  const labelNames = r.job.source.labelNames.length ? r.job.source.labelNames : [''];
  for (let i = 0; i < labels.length; i++)
    if (labels[i] < 0 || labels[i] >= labelNames.length)
      throw new JobImportError(`${JOB_FILES.dataset}: label ${labels[i]} of image ${i} has no name in job.json.`);
  return { images, labels, labelNames, shape: d.shape, count: d.count, train, val, test };
}

export interface ImportedJob {
  config: ModelConfig;
  status: 'completed' | 'stopped';
  epochsDone: number;
  history: { loss: number[]; valLoss: Array<number | null> };
  /** One record per epoch the job trained (samples/s, world size…), from the checkpoint. */
  epochs: EpochRecord[];
  message: string;
  job: JobJson;
  dataset: JobDataset;
  /** A finished job measured as the studio measures a finished run (tfjs, on the job's own split): training, validation and test. */
  metrics?: EndMetrics;
  /** train.py's own measurement of the test split (out/done.json), when the job has one. */
  jobTest?: NonNullable<DoneJson['test']>;
}

/** Puts PyTorch weights (by state_dict key) into the studio's model, checking each against the plan. */
export function setTorchWeights(
  ae: { encoder: tf.LayersModel; decoder: tf.LayersModel },
  wts: PlanWeight[],
  values: (wt: PlanWeight) => Float32Array,
): void {
  const vars = [...ae.encoder.trainableWeights, ...ae.decoder.trainableWeights];
  if (vars.length !== wts.length)
    throw new JobImportError(`the studio's model has ${vars.length} weight tensors; the job has ${wts.length}.`);
  wts.forEach((wt, i) => {
    const v = vars[i];
    const name = v.originalName ?? v.name;
    if (!name.startsWith(`${wt.layer.name}/`) || v.shape.join(',') !== wt.tfShape.join(',')) {
      throw new JobImportError(
        `the studio's weight ${i} is ${name} [${v.shape.join(', ')}]; the job's ${wt.key} maps to ${wt.tfName} [${wt.tfShape.join(', ')}].`,
      );
    }
    const t = tf.tensor(toTfLayout(wt, values(wt)), wt.tfShape);
    v.write(t);
    t.dispose();
  });
}

/**
 * Imports a trained job folder into `runDir` (created; the caller removes it if this throws):
 * config.json (epochs = the job's target), model/ (with latent statistics of the training images),
 * checkpoint/ (weights, the optimizer state in tfjs's format, state.json) — what trainRun resumes
 * and loadTrained reads.
 */
export async function importJobAsRun(dir: string, runDir: string): Promise<ImportedJob> {
  const r = readJob(dir);
  const dataset = readJobDataset(r);
  const wts = planWeights(r.plan);
  const config: ModelConfig = {
    ...r.config,
    epochs: Math.max(1, Math.min(10_000, Math.max(r.state.targetEpoch, r.state.epochsDone))),
  };
  const ae = buildAutoencoder(config);
  // a crop run's pictures are measured, as the studio measures its own, on their fixed crops (engine/crops.ts)
  const images = config.cropSize ? new CropView(dataset, config.cropSize, config.seed) : dataset;
  try {
    setTorchWeights(ae, wts, (wt) => r.weights.get(wt.key)!);
    // The training images batch by batch, as the trainer reads them (u8 / 255, no float copy of them all).
    const latentStats = await fitLatentStats(
      ae,
      new BatchSource(images, dataset.train, config.batchSize),
      config.batchSize,
    );
    // a finished job is measured like a finished run (engine/run/measure.ts endOfRunMetrics): the test split only now
    let metrics: EndMetrics | undefined;
    if (r.status === 'completed') {
      const cE = { ...config, beta: klBetaAt(config, r.state.epochsDone) };
      metrics = {
        train: await measureSplit(ae, cE, images, dataset.train.subarray(0, Math.min(dataset.train.length, 2000))),
        val: dataset.val.length ? await measureSplit(ae, cE, images, dataset.val) : null,
        test: dataset.test.length ? await measureSplit(ae, cE, images, dataset.test) : null,
        trainLabelCounts: [...labelCounts(dataset.train, dataset.labels)].map(([label, count]) => ({ label, count })),
      };
    }
    const trained = new TrainedModel(ae, config, latentStats);
    fs.mkdirSync(runDir, { recursive: true });
    writeJsonAtomic(path.join(runDir, 'config.json'), config);
    await trained.save(path.join(runDir, 'model'));
    if (metrics)
      writeJsonAtomic(path.join(runDir, 'model', 'report.json'), {
        step: undefined,
        metrics,
        cluster: { test: r.done?.test ?? null },
      });
    const slotNames = optimizerSlots(config.optimizer, config.momentum);
    const vars = [...ae.encoder.trainableWeights, ...ae.decoder.trainableWeights];
    await writeDirAtomic(path.join(runDir, 'checkpoint'), async (tmp) => {
      await saveAutoencoder(ae, tmp);
      // tfjs's optimizer format (persist.ts): 'iter', then every weight's first slot, then every weight's second
      const specs = [{ name: 'iter', shape: [] as number[], dtype: 'int32' }];
      const arrays: Float32Array[] = [Float32Array.of(r.state.iterations)];
      for (const s of slotNames) {
        wts.forEach((wt, i) => {
          specs.push({ name: `${vars[i].name}/${s}`, shape: wt.tfShape, dtype: 'float32' });
          arrays.push(toTfLayout(wt, r.slots.get(`${wt.key}/${s}`)!));
        });
      }
      const total = arrays.reduce((n, a) => n + a.length, 0);
      const buf = new Float32Array(total);
      let off = 0;
      for (const a of arrays) {
        buf.set(a, off);
        off += a.length;
      }
      fs.writeFileSync(path.join(tmp, 'optimizer.json'), JSON.stringify({ specs }));
      fs.writeFileSync(path.join(tmp, 'optimizer.bin'), Buffer.from(buf.buffer));
      fs.writeFileSync(
        path.join(tmp, 'state.json'),
        JSON.stringify({
          epochsDone: r.state.epochsDone,
          history: r.state.history,
          bestValLoss: r.state.bestValLoss,
          sinceBest: r.state.sinceBest,
          step: r.state.iterations,
        }),
      );
    });
    const workers = [...new Set(r.state.epochs.map((e) => e.world_size))];
    const rate = r.state.epochs.length ? r.state.epochs[r.state.epochs.length - 1].samples_per_sec : 0;
    const trainedHere = r.state.epochsDone - r.job.startEpoch;
    const message =
      `Trained on a cluster: ${trainedHere} epoch${trainedHere === 1 ? '' : 's'} with PyTorch DDP on ${workers.join(' / ')} worker${workers.length === 1 && workers[0] === 1 ? '' : 's'}` +
      `${rate ? `, ${Math.round(rate).toLocaleString('en-US')} samples/s in the last epoch` : ''}. ` +
      (r.status === 'completed'
        ? (r.done?.message ?? '')
        : `The job stopped after epoch ${r.state.epochsDone} of ${config.epochs}; Resume continues it here.`);
    return {
      config,
      status: r.status,
      epochsDone: r.state.epochsDone,
      history: r.state.history,
      epochs: r.state.epochs,
      message: message.trim(),
      job: r.job,
      dataset,
      ...(metrics ? { metrics } : {}),
      ...(r.done?.test ? { jobTest: r.done.test } : {}),
    };
  } finally {
    ae.encoder.dispose();
    ae.decoder.dispose();
  }
}
