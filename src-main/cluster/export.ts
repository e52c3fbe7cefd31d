// Writing a cluster job folder: everything a PyTorch cluster needs to train a studio
// run further (train.py, launch.sh, slurm.sbatch, requirements.txt, README.md), the run's images
// in compact form (uint8 + labels + the studio's train / validation split, one safetensors file),
// and initial weights in PyTorch's layout: the studio's own initial weights for the config, or
// with `checkpointDir` the run's last checkpoint with its optimizer state and history.
// Written atomically: a temporary folder beside `out`, renamed into place.
import fs from 'node:fs';
import path from 'node:path';
import { validateConfig, type ModelConfig } from '../engine/config';
import { buildAutoencoder, type Autoencoder } from '../engine/models';
import { type Dataset } from '../engine/data';
import { RunImages } from '../engine/run/images';
import { loadAutoencoder, readOptimizerSpecs } from '../engine/persist';
import { readableDir } from '../fs-safety/atomic';
import { RunCheckpointState } from '../contract/runs';
import { writeFolderAtomic, type ExportResult } from '../formats/output';
import { jobPlan, planWeights, toTorchLayout, type JobPlan, type PlanWeight } from '../engine/layer-plan';
import { writeSafetensors, type TensorToWrite } from './safetensors';
import { TRAIN_PY } from './train-py';
import { LAUNCH_SH, REQUIREMENTS_TXT, readme, slurmScript } from './scripts';
import { JOB_FILES, JOB_FORMAT, JOB_VERSION, optimizerSlots, type JobJson } from './format';

/** A job that cannot be written for this run or config (the message says why). */
export class JobError extends Error {
  override readonly name = 'JobError';
}

export interface ExportJobOptions {
  /** The run's config, or a config file's (unchecked input: validated here against the dataset). */
  config: unknown;
  /** The run's images (uint8 0..255 or float 0..1) and labels. */
  dataset: Dataset;
  labelNames?: string[];
  /** Where the images live in the studio (a RunDataset), or null when only the job folder has them. */
  datasetSpec: JobJson['source']['dataset'];
  datasetName: string;
  /** The job's name (the run id, or the config's kind). */
  name: string;
  runId?: string;
  /** Continue from this run checkpoint folder (encoder/, decoder/, optimizer.json + .bin, state.json). */
  checkpointDir?: string;
  /** The job folder to write (a new or empty folder, or an earlier job export). */
  out: string;
}

export interface ExportJobResult extends ExportResult {
  job: JobJson;
}

const isJobFolder = (dir: string) => {
  try {
    return (
      (JSON.parse(fs.readFileSync(path.join(dir, JOB_FILES.job), 'utf8')) as { format?: string }).format === JOB_FORMAT
    );
  } catch {
    return false;
  }
};

/** The objectives train.py trains (its KNOWN_LOSSES); another one is refused rather than trained differently. */
export const JOB_LOSSES: readonly string[] = ['mse', 'bce', 'ssim', 'l2+ssim'];

/**
 * Options a later studio may add that jobs do not train yet: refused, naming the option and the
 * nearest setting that runs on a cluster, rather than silently ignored.
 */
function unsupported(c: ModelConfig): string | undefined {
  const loss: string = c.loss;
  const title = loss === 'l2+ssim' ? 'L2 + SSIM' : loss.toUpperCase();
  if (!JOB_LOSSES.includes(loss))
    return `this configuration uses the ${title} loss, which cluster jobs do not train yet; the nearest that does is the MSE loss (loss 'mse')`;
  return undefined;
}

/**
 * The model's weights in PyTorch's layout, keyed by state_dict name, read in the order of the
 * model's trainable weights; checks every weight against the plan (name and tfjs shape).
 */
export function weightsToTorch(ae: Autoencoder, plan: JobPlan): Array<{ wt: PlanWeight; values: Float32Array }> {
  const wts = planWeights(plan);
  const vars = [...ae.encoder.trainableWeights, ...ae.decoder.trainableWeights];
  if (vars.length !== wts.length)
    throw new JobError(`the studio's model has ${vars.length} weight tensors; the job's plan has ${wts.length}`);
  return wts.map((wt, i) => {
    const v = vars[i];
    const name = v.originalName ?? v.name;
    if (!name.startsWith(`${wt.layer.name}/`) || v.shape.join(',') !== wt.tfShape.join(',')) {
      throw new JobError(
        `the studio's weight ${i} is ${name} [${v.shape.join(', ')}]; the job's plan expects ${wt.tfName} [${wt.tfShape.join(', ')}]`,
      );
    }
    const values = v.read().dataSync() as Float32Array; // the weight itself: nothing to tidy, nothing to dispose
    return { wt, values: toTorchLayout(wt, values) };
  });
}

interface StudioCheckpoint {
  ae: Autoencoder;
  state: RunCheckpointState;
  iterations: number;
  /** slots[k][i]: optimizer slot k of weight i (tfjs layout), empty for a fresh optimizer. */
  slots: Float32Array[][];
}

async function readStudioCheckpoint(dir: string, c: ModelConfig, nWeights: number): Promise<StudioCheckpoint> {
  const ckpt = readableDir(dir);
  if (!ckpt || !fs.existsSync(path.join(ckpt, 'state.json')))
    throw new JobError(
      `there is no checkpoint to continue from (${dir} is missing): train the run for an epoch first, or export without --from-checkpoint`,
    );
  const parsed = RunCheckpointState.safeParse(JSON.parse(fs.readFileSync(path.join(ckpt, 'state.json'), 'utf8')));
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new JobError(
      `the run's checkpoint state.json is damaged (${i?.path.join('.') || 'the file'}: ${i?.message}); export without --from-checkpoint`,
    );
  }
  const state = parsed.data;
  const specs = readOptimizerSpecs(ckpt);
  const ae = await loadAutoencoder(ckpt);
  let iterations = 0;
  const slots: Float32Array[][] = [];
  if (specs.length) {
    const bin = fs.readFileSync(path.join(ckpt, 'optimizer.bin'));
    const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
    const names = optimizerSlots(c.optimizer, c.momentum);
    if (specs.length !== 1 + names.length * nWeights) {
      ae.encoder.dispose();
      ae.decoder.dispose();
      throw new JobError(
        `the run's optimizer state has ${specs.length - 1} slots; a ${c.optimizer} optimizer for this model has ${names.length * nWeights}`,
      );
    }
    iterations = Math.round(all[0]);
    let off = 1;
    for (let k = 0; k < names.length; k++) {
      const slot: Float32Array[] = [];
      for (let i = 0; i < nWeights; i++) {
        const n = specs[1 + k * nWeights + i].shape.reduce((a, b) => a * b, 1);
        slot.push(all.subarray(off, off + n));
        off += n;
      }
      slots.push(slot);
    }
  }
  return { ae, state, iterations, slots };
}

/** Writes the job folder; resolves with the files written and job.json. */
export async function exportJob(opts: ExportJobOptions): Promise<ExportJobResult> {
  const ds = opts.dataset;
  const checked = validateConfig(opts.config, { count: ds.count, shape: ds.shape });
  if (!checked.ok)
    throw new JobError(
      `the configuration cannot train on this dataset: ${checked.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
    );
  const c = checked.config;
  const missing = unsupported(c);
  if (missing) throw new JobError(missing);
  // The studio's own split (its seed, validation and test shares, left-out labels), as its trainer makes it.
  const images0 = RunImages.plan(c, ds);
  if (typeof images0 === 'string') throw new JobError(images0);
  const split = images0.split;
  let plan: JobPlan;
  try {
    plan = jobPlan(c);
  } catch (err) {
    throw new JobError((err as Error).message);
  }
  const wts = planWeights(plan);

  // Initial weights: the run's checkpoint, or the studio's own initialisation for this config (same seed).
  const ckpt = opts.checkpointDir ? await readStudioCheckpoint(opts.checkpointDir, c, wts.length) : undefined;
  const ae = ckpt?.ae ?? buildAutoencoder(c);
  let weights: Array<{ wt: PlanWeight; values: Float32Array }>;
  try {
    weights = weightsToTorch(ae, plan);
  } finally {
    ae.encoder.dispose();
    ae.decoder.dispose();
  }
  const slotNames = optimizerSlots(c.optimizer, c.momentum);
  const slotTensors: TensorToWrite[] = [];
  if (ckpt?.slots.length) {
    slotNames.forEach((s, k) =>
      wts.forEach((wt, i) =>
        slotTensors.push({
          name: `${wt.key}/${s}`,
          dtype: 'F32',
          shape: wt.shape,
          data: toTorchLayout(wt, ckpt.slots[k][i]),
        }),
      ),
    );
  }

  // The images as uint8 with labels and the studio's split (data.ts splitIndices, the same seed).
  const [h, w, ch] = ds.shape;
  const per = h * w * ch;
  const images =
    ds.images instanceof Uint8Array
      ? ds.images.subarray(0, ds.count * per)
      : Uint8Array.from(ds.images.subarray(0, ds.count * per), (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
  const labels = Int32Array.from(ds.labels ? ds.labels.subarray(0, ds.count) : new Int32Array(ds.count));
  // every label needs a name (the importer refuses labels it cannot name): given ones, else '0', '1', …
  let maxLabel = 0;
  for (const l of labels) {
    if (l < 0) throw new JobError(`the dataset has a negative label (${l})`);
    maxLabel = Math.max(maxLabel, l);
  }
  const labelNames = (opts.labelNames ?? []).slice();
  for (let i = labelNames.length; i <= maxLabel; i++) labelNames.push(String(i));
  const history = ckpt
    ? { loss: ckpt.state.history.loss.slice(), valLoss: ckpt.state.history.valLoss.slice() }
    : { loss: [], valLoss: [] };
  const startEpoch = ckpt?.state.epochsDone ?? 0;
  const datasetBytes =
    images.byteLength + labels.byteLength + (split.train.byteLength + split.val.byteLength + split.test.byteLength);

  const job: JobJson = {
    format: JOB_FORMAT,
    version: JOB_VERSION,
    name: opts.name,
    createdAt: new Date().toISOString(),
    source: {
      runId: opts.runId ?? null,
      fromCheckpoint: !!ckpt,
      dataset: opts.datasetSpec,
      datasetName: opts.datasetName,
      labelNames,
    },
    config: c,
    model: plan,
    weights: wts.map((x) => ({ key: x.key, shape: x.shape })),
    startEpoch,
    epochs: c.epochs,
    history,
    bestValLoss: ckpt?.state.bestValLoss ?? null,
    sinceBest: ckpt?.state.sinceBest ?? 0,
    dataset: {
      file: JOB_FILES.dataset,
      count: ds.count,
      shape: ds.shape,
      train: split.train.length,
      val: split.val.length,
      test: split.test.length,
      bytes: datasetBytes,
    },
    init: {
      model: JOB_FILES.initModel,
      ...(slotTensors.length ? { optimizer: JOB_FILES.initOptimizer } : {}),
      iterations: ckpt?.iterations ?? 0,
    },
  };
  const texts = {
    name: opts.name,
    config: c,
    startEpoch,
    epochs: c.epochs,
    images: ds.count,
    trainImages: split.train.length,
    valImages: split.val.length,
    testImages: split.test.length,
    parameters: plan.parameters,
    datasetBytes,
    fromCheckpoint: !!ckpt,
  };

  // An earlier job folder is replaced, but never one that has trained (its out/ holds the results).
  const outDir = path.resolve(opts.out);
  if (isJobFolder(outDir) && fs.existsSync(path.join(outDir, JOB_FILES.out))) {
    throw new JobError(
      `${outDir} is a job folder that has trained (it has out/): import it first, or export into a new folder`,
    );
  }
  const res = await writeFolderAtomic(
    opts.out,
    async (tmp) => {
      fs.mkdirSync(path.join(tmp, 'data'));
      fs.mkdirSync(path.join(tmp, 'init'));
      const meta = { format: JOB_FORMAT, version: String(JOB_VERSION) };
      writeSafetensors(
        path.join(tmp, JOB_FILES.dataset),
        [
          { name: 'images', dtype: 'U8', shape: [ds.count, h, w, ch], data: images },
          { name: 'labels', dtype: 'I32', shape: [ds.count], data: labels },
          { name: 'train_index', dtype: 'I32', shape: [split.train.length], data: split.train },
          { name: 'val_index', dtype: 'I32', shape: [split.val.length], data: split.val },
          { name: 'test_index', dtype: 'I32', shape: [split.test.length], data: split.test },
        ],
        meta,
      );
      writeSafetensors(
        path.join(tmp, JOB_FILES.initModel),
        weights.map(({ wt, values }) => ({ name: wt.key, dtype: 'F32', shape: wt.shape, data: values })),
        meta,
      );
      if (slotTensors.length) writeSafetensors(path.join(tmp, JOB_FILES.initOptimizer), slotTensors, meta);
      fs.writeFileSync(path.join(tmp, JOB_FILES.job), JSON.stringify(job, null, 2));
      fs.writeFileSync(path.join(tmp, JOB_FILES.train), TRAIN_PY, { mode: 0o755 });
      fs.writeFileSync(path.join(tmp, JOB_FILES.launch), LAUNCH_SH, { mode: 0o755 });
      fs.writeFileSync(path.join(tmp, JOB_FILES.slurm), slurmScript(texts), { mode: 0o755 });
      fs.writeFileSync(path.join(tmp, JOB_FILES.requirements), REQUIREMENTS_TXT);
      fs.writeFileSync(path.join(tmp, JOB_FILES.readme), readme(texts));
    },
    isJobFolder,
  );
  return { ...res, job };
}
