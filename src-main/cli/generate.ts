// `ae-studio generate` and `ae-studio evaluate --generation`: new images from a trained run, and
// their quality in numbers.
//   ae-studio generate --workspace WS --run ID [--sampler NAME] [--label L] --count N (--out DIR | --into-dataset NAME) [--seed S] [--json]
//   ae-studio evaluate --generation --workspace WS --run ID [--count N] [--samplers a,b] [--seed S] [--json]
// The run's own dataset (run.json) gives the codes the samplers are fitted to. The sampler a run
// generates with is remembered in runs/<id>/generation/sampler.json (the fitted density, so later
// draws come from the same one); `--sampler` fits and remembers a new one. With `--label`, the
// density is fitted to that label's codes only (class-conditional) and is not remembered.
// Generated images go to a folder of PNGs, or into a dataset of the store (a new one, or added to
// an existing one) with their rows marked as generated in its manifest.
// The work is the engine's (src-main/engine/generation); this file parses, loads and prints.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeDirAtomic, writeJsonAtomic } from '../fs-safety/atomic';
import { StoredRunSummary } from '../contract';
import { makeBuiltin } from '../datasets/builtins';
import {
  appendToDataset,
  findDatasetId,
  generatedMask,
  loadDataset,
  writeDataset,
  type DatasetManifest,
} from '../datasets/store';
import type { Dataset } from '../engine/data';
import type { GenerationReport, Sampler, SamplerName } from '../engine/generation';

export const GENERATE_USAGE =
  'ae-studio generate --workspace DIR --run ID [--sampler NAME] [--label L] --count N (--out DIR | --into-dataset NAME) [--seed S] [--json]';
export const EVALUATE_GENERATION_USAGE =
  'ae-studio evaluate --generation --workspace DIR --run ID [--count N] [--samplers NAME,...] [--feature-images N] [--seed S] [--json]';
const SAMPLERS = ['prior', 'diagonal', 'full', 'gmm', 'two-stage'];
const RUN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A mistake in the arguments: exit code 2 like every other usage error of the CLI. */
class GenerateUsageError extends Error {
  readonly code = 'ERR_PARSE_ARGS_GENERATE';
  constructor(message: string, usage = GENERATE_USAGE) {
    super(`${message}\nUsage: ${usage}`);
  }
}

interface RunData {
  dir: string;
  /** The run's images (its count of the dataset). */
  ds: Dataset;
  /** The whole dataset (what the feature classifier is trained on). */
  full: Dataset;
  /** The store id, or the built-in's name. */
  key: string;
  labelNames: string[];
  /** Rows of `full` that are generated images (marked in the manifest); the run's rows are its first `ds.count`. */
  generated?: Uint8Array;
}

function wholeNumber(v: string | undefined, name: string, min: number, max: number, usage: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new GenerateUsageError(`${name} must be a whole number from ${min} to ${max} (got '${v}').`, usage);
  return n;
}

/** The run folder with its trained model, and the dataset it trained on (from its run.json). */
function openRun(ws: string, runId: string | undefined, usage: string): RunData {
  if (!runId) throw new GenerateUsageError('--run ID is required.', usage);
  if (!RUN_ID_RE.test(runId) || runId.includes('..'))
    throw new GenerateUsageError(`'${runId}' is not a run id.`, usage);
  const dir = path.join(ws, 'runs', runId);
  if (!fs.existsSync(dir)) throw new Error(`There is no run '${runId}' in ${ws}.`);
  if (!fs.existsSync(path.join(dir, 'model', 'encoder', 'model.json')))
    throw new Error(`Run '${runId}' has no trained model yet: let it finish training first.`);
  let spec: { builtin?: string; id?: string; count?: number };
  try {
    const r = StoredRunSummary.safeParse(JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')));
    if (!r.success) throw new Error(r.error.issues[0]?.message);
    spec = r.data.dataset as typeof spec;
  } catch (e) {
    throw new Error(`Run '${runId}' has no readable run.json, so its dataset is unknown (${(e as Error).message}).`);
  }
  let full: Dataset;
  let labelNames: string[];
  let key: string;
  let generated: Uint8Array | undefined;
  if (spec.builtin) {
    const raw = makeBuiltin(spec.builtin as 'mnist');
    full = raw;
    labelNames = raw.labelNames;
    key = spec.builtin;
  } else {
    const id = spec.id!;
    if (!findDatasetId(ws, id))
      throw new Error(`Run '${runId}' trained on dataset '${id}', which is no longer in ${ws}.`);
    const d = loadDataset(ws, id);
    full = { images: d.images, labels: d.labels, count: d.count, shape: d.shape };
    labelNames = d.manifest.labelNames;
    key = id;
    if (d.manifest.generated?.length) generated = generatedMask(d.manifest);
  }
  const n = Math.min(spec.count ?? full.count, full.count);
  const size = full.shape[0] * full.shape[1] * full.shape[2];
  const ds = {
    images: full.images.subarray(0, n * size),
    labels: full.labels?.subarray(0, n),
    count: n,
    shape: full.shape,
  };
  return { dir, ds, full, key, labelNames, generated };
}

/** The label by name, or by number when no label has that name. */
function labelOf(v: string, names: string[], usage: string): number {
  const byName = names.indexOf(v);
  if (byName >= 0) return byName;
  if (/^\d+$/.test(v) && Number(v) < names.length) return Number(v);
  throw new GenerateUsageError(
    `--label: '${v}' is not a label of this run's dataset (labels: ${names.map((l) => l || "''").join(', ') || 'none'}).`,
    usage,
  );
}

const fix = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : '–');

/** `ae-studio evaluate --generation …` (argv without `--generation`). */
export async function evaluateGenerationCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const usage = EVALUATE_GENERATION_USAGE;
  const { values } = parseArgs({
    args: argv,
    options: {
      workspace: { type: 'string' },
      run: { type: 'string' },
      dataset: { type: 'string' },
      count: { type: 'string' },
      samplers: { type: 'string' },
      'feature-images': { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.workspace) throw new GenerateUsageError('--workspace DIR is required.', usage);
  if (values.dataset !== undefined)
    throw new GenerateUsageError("--generation measures on the run's own dataset; leave out --dataset.", usage);
  const count = wholeNumber(values.count, '--count', 10, 20_000, usage) ?? 1000;
  const seed = wholeNumber(values.seed, '--seed', 0, 2 ** 31 - 1, usage) ?? 1;
  const featureImages = wholeNumber(values['feature-images'], '--feature-images', 100, 1_000_000, usage);
  const samplers = values.samplers?.split(',').map((s) => s.trim());
  for (const s of samplers ?? [])
    if (!SAMPLERS.includes(s))
      throw new GenerateUsageError(`--samplers: '${s}' is not a sampler (${SAMPLERS.join(', ')}).`, usage);
  const ws = path.resolve(values.workspace);
  const run = openRun(ws, values.run, usage);

  const { loadTrained } = await import('../engine/trained-model');
  const { cropRunRefusal, featureSpaceFor, measureGeneration } = await import('../engine/generation');
  const trained = await loadTrained(run.dir);
  try {
    const cropRefusal = cropRunRefusal(trained, values.run as string);
    if (cropRefusal) throw new Error(cropRefusal);
    const fs_ = await featureSpaceFor(ws, run.key, run.full, trained, run.dir, featureImages, run.generated);
    try {
      const report = await measureGeneration(trained, run.ds, fs_.space, {
        count,
        seed,
        samplers: samplers as SamplerName[] | undefined,
        generated: run.generated,
      });
      const saved = {
        run: values.run,
        dataset: run.key,
        seed,
        measuredAt: new Date().toISOString(),
        featuresNote: fs_.note,
        ...report,
      };
      fs.mkdirSync(path.join(run.dir, 'generation'), { recursive: true });
      writeJsonAtomic(path.join(run.dir, 'generation', 'report.json'), saved);
      if (values.json) {
        out(JSON.stringify(saved));
        return 0;
      }
      printReport(out, values.run!, run.key, report, fs_.note);
      return 0;
    } finally {
      fs_.dispose();
    }
  } finally {
    trained.dispose();
  }
}

function printReport(out: (s: string) => void, runId: string, key: string, r: GenerationReport, note: string): void {
  out(`Sample quality of run '${runId}' on '${key}'`);
  out(`Features: ${r.features.description}; ${note}.`);
  out(
    `Each set: ${r.count} images, against ${r.count} real training images; samplers fitted to ${r.fittedOn} training codes; precision/recall with k = ${r.k}.`,
  );
  out(`  ${'images'.padEnd(36)}${'Fréchet'.padStart(10)}${'precision'.padStart(11)}${'recall'.padStart(9)}`);
  const row = (name: string, s: { frechet: number; precision: number; recall: number }) =>
    out(
      `  ${name.padEnd(36)}${fix(s.frechet, 3).padStart(10)}${fix(s.precision, 3).padStart(11)}${fix(s.recall, 3).padStart(9)}`,
    );
  row('real held-out images (the floor)', r.floor);
  row('reconstructions of them', r.reconstructions);
  for (const s of r.samplers) {
    if ('scores' in s) row(`${s.name}: ${s.title}`, s.scores);
    else out(`  ${`${s.name}: ${s.title}`.padEnd(36)}  skipped: ${s.skipped}`);
  }
  for (const s of r.samplers) if ('scores' in s && s.description !== s.title) out(`  (${s.name}: ${s.description})`);
  out(
    'Lower Fréchet distance is better; precision = share of samples that look real, recall = share of the real images the samples cover.',
  );
}

export async function generateCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      workspace: { type: 'string' },
      run: { type: 'string' },
      sampler: { type: 'string' },
      label: { type: 'string' },
      count: { type: 'string' },
      out: { type: 'string' },
      'into-dataset': { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  // every argument is checked before anything is fitted or written
  if (!values.workspace) throw new GenerateUsageError('--workspace DIR is required.');
  const count = wholeNumber(values.count, '--count', 1, 100_000, GENERATE_USAGE);
  if (count === undefined) throw new GenerateUsageError('--count N is required.');
  if (!values.out === !values['into-dataset'])
    throw new GenerateUsageError(
      'Give exactly one of --out DIR (PNG files) and --into-dataset NAME (a dataset of the workspace).',
    );
  if (values.sampler !== undefined && !SAMPLERS.includes(values.sampler))
    throw new GenerateUsageError(`--sampler must be one of ${SAMPLERS.join(', ')} (got '${values.sampler}').`);
  const seed = wholeNumber(values.seed, '--seed', 0, 2 ** 31 - 1, GENERATE_USAGE) ?? Date.now() % 2 ** 31;
  const ws = path.resolve(values.workspace);
  const outDir = values.out ? path.resolve(values.out) : undefined;
  if (outDir && fs.existsSync(outDir) && (!fs.statSync(outDir).isDirectory() || fs.readdirSync(outDir).length)) {
    throw new Error(`${outDir} already exists and is not an empty folder; give a new folder for the PNG files.`);
  }
  const run = openRun(ws, values.run, GENERATE_USAGE);
  const label = values.label !== undefined ? labelOf(values.label, run.labelNames, GENERATE_USAGE) : undefined;
  if (label !== undefined && !run.ds.labels) throw new Error("--label: this run's dataset has no labels.");
  let intoId: string | undefined;
  let target: DatasetManifest | undefined;
  if (values['into-dataset']) {
    intoId = findDatasetId(ws, values['into-dataset']);
    if (intoId) {
      target = loadDataset(ws, intoId).manifest;
      if (target.shape.join('x') !== run.ds.shape.join('x')) {
        throw new Error(
          `Dataset '${values['into-dataset']}' holds ${target.shape.join('×')} images; run '${values.run}' makes ${run.ds.shape.join('×')} ones.`,
        );
      }
    }
  }

  const { loadTrained } = await import('../engine/trained-model');
  const {
    codesOfRows,
    cropRunRefusal,
    decodeCodes,
    describeSampler,
    drawCodes,
    fitRunSampler,
    fitSampler,
    readRememberedSampler,
    runSplit,
    samplerRefusal,
    saveRememberedSampler,
  } = await import('../engine/generation');
  const trained = await loadTrained(run.dir);
  try {
    const cropRefusal = cropRunRefusal(trained, values.run as string);
    if (cropRefusal) throw new Error(cropRefusal);
    const remembered = readRememberedSampler(run.dir);
    const name = (values.sampler ?? remembered?.name ?? (trained.vae ? 'prior' : 'full')) as SamplerName;
    const refusal = samplerRefusal(name, trained, values.run!);
    if (refusal) throw new Error(refusal.replace('choose another sampler', 'choose another --sampler'));
    if (name === 'prior' && label !== undefined)
      throw new Error(
        'The VAE prior knows nothing of labels; with --label choose a sampler fitted to the codes (diagonal, full, gmm, two-stage).',
      );
    const { train } = runSplit(trained, run.ds, run.generated);
    let sampler: Sampler;
    let fittedOn: number;
    let reused = false;
    if (label !== undefined) {
      const rows = train.filter((i) => run.ds.labels![i] === label).subarray(0, 5000);
      if (rows.length < 2)
        throw new Error(
          `Run '${values.run}' trained on ${rows.length} image(s) of label '${run.labelNames[label]}'; at least 2 are needed to fit its density.`,
        );
      sampler = await fitSampler(name, codesOfRows(trained, run.ds, rows), rows.length, trained.config.latentDim, {
        seed: 1,
      });
      fittedOn = rows.length;
    } else if (remembered && remembered.name === name && values.sampler === undefined) {
      sampler = remembered.sampler;
      fittedOn = remembered.fittedOn;
      reused = true;
    } else {
      ({ sampler, fittedOn } = await fitRunSampler(name, trained, run.ds, run.generated));
    }
    const images = decodeCodes(trained, drawCodes(sampler, count, seed));
    const shape = run.ds.shape;
    const size = shape[0] * shape[1] * shape[2];
    const u8 = Uint8Array.from(images, (v) => Math.max(0, Math.min(255, Math.round(v * 255))));
    const labelName = label !== undefined ? run.labelNames[label] : undefined;
    let where: string;
    let manifest: DatasetManifest | undefined;
    if (outDir) {
      const { writeImageGridPng } = await import('../formats/image-grid');
      await writeDirAtomic(outDir, async (tmp) => {
        const width = String(count - 1).length;
        for (let i = 0; i < count; i++)
          await writeImageGridPng(
            u8.subarray(i * size, (i + 1) * size),
            shape,
            1,
            path.join(tmp, `${String(i).padStart(Math.max(4, width), '0')}.png`),
          );
        await writeImageGridPng(u8.subarray(0, Math.min(count, 100) * size), shape, 10, path.join(tmp, 'grid.png'), {
          scale: 2,
          gap: 1,
        });
      });
      where = `${outDir} (${count} PNG files and grid.png)`;
    } else {
      const raw = { images: u8, labels: new Int32Array(count), labelNames: [labelName ?? ''], shape, count };
      const mark = {
        run: values.run!,
        sampler: name,
        ...(labelName !== undefined ? { label: labelName } : {}),
        seed,
        createdAt: Date.now(),
      };
      manifest = intoId
        ? await appendToDataset(ws, intoId, raw, undefined, mark)
        : await writeDataset(
            ws,
            values['into-dataset']!,
            raw,
            { kind: 'generated', run: values.run! },
            { generated: mark },
          );
      where = intoId
        ? `dataset '${manifest.name}' (${manifest.id}), now ${manifest.count} images`
        : `a new dataset '${manifest.name}' (${manifest.id})`;
    }
    if (label === undefined && !reused) saveRememberedSampler(run.dir, name, sampler, fittedOn);
    const result = {
      run: values.run,
      sampler: name,
      description: describeSampler(sampler),
      fittedOn,
      reusedRememberedSampler: reused,
      label: labelName,
      count,
      seed,
      out: outDir,
      dataset: manifest && {
        id: manifest.id,
        name: manifest.name,
        count: manifest.count,
        generated: manifest.generated,
      },
    };
    if (values.json) out(JSON.stringify(result));
    else {
      out(
        `Generated ${count} images${labelName !== undefined ? ` of label '${labelName}'` : ''} from run '${values.run}' with the ${describeSampler(sampler)}${fittedOn ? ` fitted to ${fittedOn} training codes${labelName !== undefined ? ' of that label' : ''}` : ''} (seed ${seed}).`,
      );
      out(`Saved to ${where}${manifest ? '; the rows are marked as generated in its manifest' : ''}.`);
      if (label === undefined)
        out(
          reused
            ? `The run's remembered sampler (${name}) was used.`
            : `Run '${values.run}' now remembers this sampler (${name}).`,
        );
    }
    return 0;
  } finally {
    trained.dispose();
  }
}
