// `ae-studio`: the studio's pipelines from a terminal (dist-main/cli.cjs, package.json "bin").
//   ae-studio builtin mnist|fashion-mnist|shapes --workspace DIR [--name NAME] [--json]
//   ae-studio import PATH… --workspace DIR --name NAME [--size N] [--mode grayscale|rgb] [--fit stretch|crop|pad] [--background black|white] [--json]
//   ae-studio datasets --workspace DIR [--json]
//   ae-studio export --workspace DIR --run ID --format tfjs|keras|onnx --part encoder|decoder|full --out PATH [--json]
//   ae-studio latents --workspace DIR --run ID --dataset NAME --out codes.csv [--json]
//   ae-studio train --workspace DIR --dataset NAME --config run.json [--count N] [--json]   (train.ts)
//   ae-studio train --workspace DIR --resume RUN_ID [--json]
//   ae-studio runs --workspace DIR [--json]
//   ae-studio evaluate … (src-main/cli/evaluate.ts); evaluate --generation … (cli/generate.ts)
//   ae-studio generate … (cli/generate.ts)
//   ae-studio inspect … (src-main/cli/inspect.ts)
//   ae-studio job export|import|watch …   (cluster jobs: cli/job.ts)
// export/latents load tfjs-node, so they import the engine only when they run; `train` trains in
// the trainer process. TensorFlow's own INFO lines are kept off stderr unless --verbose (see quietTensorFlow).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BUILTIN_NAMES, BUILTIN_TITLES, makeBuiltin, type BuiltinName } from '../datasets/builtins';
import {
  describeStoredDatasets,
  findDatasetId,
  listDatasets,
  loadDataset,
  writeDataset,
  writeInspectionSet,
} from '../datasets/store';
import { importPaths } from '../datasets/import';
import { importGoodAndSuspects, importMvtec, isMvtecLayout } from '../datasets/import/mvtec';
import { EXPORT_FORMATS, EXPORT_PARTS, type ExportFormat, type ExportPart } from '../formats/errors';
import { UsageError } from './errors';
import { runsCommand, trainCommand } from './train';
import { quietTensorFlow } from './quiet';
import { EVALUATE_USAGE, evaluateCommand } from './evaluate';
import { EVALUATE_GENERATION_USAGE, GENERATE_USAGE, evaluateGenerationCommand, generateCommand } from './generate';
import { INSPECT_USAGE } from './inspect-usage';

const USAGE = `Usage:
  ae-studio import PATH... --workspace DIR --name NAME [--size N] [--mode grayscale|rgb] [--fit stretch|crop|pad] [--background black|white] [--json]
  ae-studio import MVTEC_DIR | GOOD_DIR --suspects DIR --workspace DIR --name NAME [--size N] [--mode …]   (an inspection set: two datasets, NAME and 'NAME (test)')
  ae-studio builtin ${BUILTIN_NAMES.join('|')} --workspace DIR [--name NAME] [--json]
  ae-studio datasets --workspace DIR [--json]
  ae-studio export --workspace DIR --run ID --format tfjs|keras|onnx --part encoder|decoder|full --out PATH [--json]
  ae-studio latents --workspace DIR --run ID --dataset ${BUILTIN_NAMES.join('|')}|DATASET --out codes.csv [--json]
  ae-studio train --workspace DIR --dataset mnist|DATASET --config run.json [--count N] [--crop N] [--json]
  ae-studio train --workspace DIR --dataset DATASET --preset inspection [--config overrides.json] [--crop N] [--json]
  ae-studio train --workspace DIR --resume RUN_ID [--json]
  ae-studio runs --workspace DIR [--json]
  ${EVALUATE_USAGE}
  ${EVALUATE_GENERATION_USAGE}
  ${GENERATE_USAGE}
  ${INSPECT_USAGE}
  ae-studio job export --workspace DIR (--run ID [--from-checkpoint] | --config FILE --dataset NAME) --out JOBDIR [--json]
  ae-studio job import JOBDIR --workspace DIR [--json]
  ae-studio job watch JOBDIR [--interval SECONDS] [--timeout SECONDS] [--once] [--json] [--import --workspace DIR]
Every command takes --verbose (TensorFlow's own log lines on stderr) and --help.`;

const RUN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** `<workspace>/runs/<id>/` with a trained model in model/, or a UsageError/Error saying what is missing. */
function trainedRunDir(ws: string, runId: string | undefined): string {
  if (!runId) throw new UsageError('--run ID is required.');
  if (!RUN_ID_RE.test(runId) || runId.includes('..')) throw new UsageError(`'${runId}' is not a run id.`);
  const dir = path.join(ws, 'runs', runId);
  if (!fs.existsSync(dir)) throw new Error(`There is no run '${runId}' in ${ws}.`);
  if (!fs.existsSync(path.join(dir, 'model', 'encoder', 'model.json'))) {
    throw new Error(
      `Run '${runId}' has no trained model yet (${path.join(dir, 'model')} is missing): let it finish training first.`,
    );
  }
  return dir;
}

const OPTIONS = {
  workspace: { type: 'string' },
  name: { type: 'string' },
  size: { type: 'string', default: '28' },
  mode: { type: 'string', default: 'grayscale' },
  fit: { type: 'string', default: 'stretch' },
  background: { type: 'string', default: 'black' },
  run: { type: 'string' },
  format: { type: 'string' },
  part: { type: 'string', default: 'full' },
  out: { type: 'string' },
  dataset: { type: 'string' },
  config: { type: 'string' },
  resume: { type: 'string' },
  preset: { type: 'string' },
  suspects: { type: 'string' },
  count: { type: 'string' },
  crop: { type: 'string' },
  json: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

/** One command's arguments: its options, its positionals after the command name, the workspace folder. */
interface Invocation {
  values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];
  rest: string[];
  ws: string;
  /** The trainer bundle next to cli.cjs. */
  trainerEntry: string;
  out: (s: string) => void;
}

/** The commands that take the shared options, by name; each resolves to the exit code. */
const COMMANDS: Record<string, (a: Invocation) => Promise<number>> = {
  train: trainCli,
  runs: ({ values, ws, trainerEntry, out }) => runsCommand({ workspace: ws, json: values.json, trainerEntry }, out),
  builtin: builtinCommand,
  import: importCommand,
  datasets: datasetsCommand,
  export: exportCommand,
  latents: latentsCommand,
};

export async function run(argv: string[], out: (s: string) => void): Promise<number> {
  // evaluate, generate, inspect and job read their own options; --help and --verbose (handled by quietTensorFlow) work for them too
  if (argv[0] === 'evaluate' || argv[0] === 'job' || argv[0] === 'generate' || argv[0] === 'inspect') {
    if (argv.includes('--help')) {
      out(USAGE);
      return 0;
    }
    const own = argv.slice(1).filter((a) => a !== '--verbose');
    if (argv[0] === 'generate') return generateCommand(own, out);
    if (argv[0] === 'evaluate' && own.includes('--generation'))
      return evaluateGenerationCommand(
        own.filter((a) => a !== '--generation'),
        out,
      );
    if (argv[0] === 'inspect') return (await import('./inspect')).inspectCommand(own, out);
    return argv[0] === 'evaluate' ? evaluateCommand(own, out) : (await import('./job')).runJob(own, out);
  }
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    out(USAGE);
    return values.help ? 0 : 2;
  }
  if (!values.workspace) throw new UsageError('--workspace DIR is required.');
  const handler = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!handler) throw new UsageError(`Unknown command '${command}'.`);
  return handler({
    values,
    rest,
    ws: path.resolve(values.workspace),
    trainerEntry: path.join(__dirname, 'trainer.cjs'),
    out,
  });
}

async function trainCli({ values, rest, ws, trainerEntry, out }: Invocation): Promise<number> {
  if (rest.length) throw new UsageError(`'train' takes no positional arguments (got ${rest.join(' ')}).`);
  const status =
    process.stdout.isTTY && !values.json ? (s: string) => process.stdout.write(`\r\x1b[2K${s}`) : undefined;
  return trainCommand(
    {
      workspace: ws,
      dataset: values.dataset,
      config: values.config,
      count: values.count,
      crop: values.crop,
      resume: values.resume,
      preset: values.preset,
      json: values.json,
      verbose: values.verbose,
      trainerEntry,
    },
    { out, status, err: (s) => console.error(s) },
  );
}

async function builtinCommand({ values, rest, ws, out }: Invocation): Promise<number> {
  const name = rest[0] as BuiltinName;
  if (!BUILTIN_NAMES.includes(name))
    throw new UsageError(`Unknown built-in dataset '${rest[0] ?? ''}'; choose one of ${BUILTIN_NAMES.join(', ')}.`);
  const m = await writeDataset(ws, values.name ?? BUILTIN_TITLES[name], makeBuiltin(name), {
    kind: 'builtin',
    builtin: name,
  });
  out(
    values.json
      ? JSON.stringify(m)
      : `Added '${m.name}' (${m.id}): ${m.count} images, ${m.shape.join('×')}, labels ${m.labelNames.map((l, i) => `${l}=${m.labelCounts[i]}`).join(' ')}`,
  );
  return 0;
}

async function importCommand({ values, rest, ws, out }: Invocation): Promise<number> {
  if (!rest.length) throw new UsageError('Give at least one folder, image file or zip to import.');
  if (!values.name) throw new UsageError('--name NAME is required.');
  const size = Number(values.size);
  if (!Number.isInteger(size) || size < 4 || size > 512)
    throw new UsageError('--size must be a whole number from 4 to 512.');
  if (values.mode !== 'grayscale' && values.mode !== 'rgb') throw new UsageError('--mode must be grayscale or rgb.');
  if (!['stretch', 'crop', 'pad'].includes(values.fit as string))
    throw new UsageError('--fit must be stretch, crop or pad.');
  if (values.background !== 'black' && values.background !== 'white')
    throw new UsageError('--background (what transparent pixels and padding become) must be black or white.');
  const importOpts = {
    size,
    mode: values.mode as 'grayscale' | 'rgb',
    fit: values.fit as 'stretch' | 'crop' | 'pad',
    background: values.background as 'black' | 'white',
  };
  if (values.suspects !== undefined || (rest.length === 1 && isMvtecLayout(path.resolve(rest[0]))))
    return importInspectionSet({ values, rest, ws, out }, importOpts);
  const { dataset, report } = await importPaths(rest, importOpts);
  if (report.imported === 0) {
    out(
      values.json
        ? JSON.stringify({ ...report, dataset: null })
        : `Nothing imported; ${report.skipped.length} files skipped:\n${report.skipped.map((s) => `  ${s.file}: ${s.reason}`).join('\n')}`,
    );
    return 1;
  }
  const m = await writeDataset(
    ws,
    values.name,
    dataset,
    { kind: 'import', paths: rest.map((p) => path.resolve(p)) },
    {
      options: {
        size,
        mode: values.mode,
        fit: values.fit as string,
        background: values.background,
        validationSplit: 0.1,
        seed: 42,
      },
      report,
    },
  );
  if (values.json) out(JSON.stringify({ dataset: m.id, ...report }));
  else {
    out(
      `Imported ${report.imported} images into '${m.name}' (${m.id}), ${size}×${size} ${values.mode}; labels: ${Object.entries(
        report.labelCounts,
      )
        .map(([l, c]) => `${l || '(none)'}=${c}`)
        .join(' ')}`,
    );
    if (report.skipped.length)
      out(`Skipped ${report.skipped.length}:\n${report.skipped.map((s) => `  ${s.file}: ${s.reason}`).join('\n')}`);
  }
  return 0;
}

/** An inspection set: the MVTec AD layout, or good pictures plus --suspects; two datasets that name each other. */
async function importInspectionSet(
  { values, rest, ws, out }: Pick<Invocation, 'values' | 'rest' | 'ws' | 'out'>,
  importOpts: {
    size: number;
    mode: 'grayscale' | 'rgb';
    fit: 'stretch' | 'crop' | 'pad';
    background: 'black' | 'white';
  },
): Promise<number> {
  if (rest.length !== 1)
    throw new UsageError(
      'An inspection import takes one folder (the MVTec AD layout, or the good pictures with --suspects DIR).',
    );
  const root = path.resolve(rest[0]);
  const set =
    values.suspects !== undefined
      ? await importGoodAndSuspects(root, path.resolve(values.suspects), importOpts)
      : await importMvtec(root, importOpts);
  const { size, mode, fit, background } = importOpts;
  const { train, test } = await writeInspectionSet(
    ws,
    values.name!,
    set,
    { kind: 'import', paths: [root, ...(values.suspects ? [path.resolve(values.suspects)] : [])] },
    { size, mode, fit, background, validationSplit: 0.1, seed: 42 },
  );
  if (values.json)
    out(
      JSON.stringify({
        layout: set.layout,
        dataset: train.id,
        testDataset: test.id,
        masks: !!set.test.masks,
        ...set.report,
      }),
    );
  else {
    out(
      `Inspection set (${set.layout === 'mvtec' ? 'MVTec AD layout' : 'good pictures + suspects'}), ${size}×${size} ${mode}:`,
    );
    out(`  '${train.name}' (${train.id}): ${train.count} good pictures to train on`);
    out(
      `  '${test.name}' (${test.id}): ${test.count} pictures never trained on — ${test.labelNames.map((l, i) => `${l}=${test.labelCounts[i]}`).join(' ')}${set.test.masks ? ', with masks' : ''}`,
    );
    if (set.report.skipped.length)
      out(
        `Skipped ${set.report.skipped.length}:\n${set.report.skipped.map((s) => `  ${s.file}: ${s.reason}`).join('\n')}`,
      );
  }
  return 0;
}

async function datasetsCommand({ values, ws, out }: Invocation): Promise<number> {
  const list = listDatasets(ws);
  if (values.json) out(JSON.stringify(list));
  else if (!list.length) out(`No datasets in ${ws}.`);
  else
    for (const d of list)
      out('error' in d ? `${d.id}  ! ${d.error}` : `${d.id}  ${d.name}  ${d.count} images  ${d.shape.join('×')}`);
  return 0;
}

async function exportCommand({ values, ws, out }: Invocation): Promise<number> {
  const format = values.format as ExportFormat;
  const part = values.part as ExportPart;
  if (!EXPORT_FORMATS.includes(format))
    throw new UsageError(
      `--format must be one of ${EXPORT_FORMATS.join(', ')}${values.format ? ` (got '${values.format}')` : ''}.`,
    );
  if (!EXPORT_PARTS.includes(part))
    throw new UsageError(`--part must be one of ${EXPORT_PARTS.join(', ')} (got '${values.part}').`);
  if (!values.out) throw new UsageError('--out PATH is required.');
  const dir = trainedRunDir(ws, values.run);
  const { exportModel } = await import('../formats');
  const res = await exportModel(dir, { format, part, out: path.resolve(values.out) });
  out(
    values.json
      ? JSON.stringify({ run: values.run, format, part, ...res })
      : `Exported the ${part === 'full' ? 'whole autoencoder' : part} of run '${values.run}' as ${format}: ${res.files.join(', ')} (${res.bytes} bytes)`,
  );
  return 0;
}

/** The images `latents` encodes: a built-in set or a stored dataset (by id or name). */
function latentsDataset(
  ws: string,
  name: string,
): {
  data: { images: Uint8Array; labels: Int32Array; count: number; shape: [number, number, number] };
  labelNames: string[];
} {
  if ((BUILTIN_NAMES as readonly string[]).includes(name)) {
    const raw = makeBuiltin(name as BuiltinName);
    return { data: raw, labelNames: raw.labelNames };
  }
  const id = findDatasetId(ws, name);
  if (!id)
    throw new Error(
      `There is no dataset '${name}' in ${ws}; use ${BUILTIN_NAMES.join(', ')} or one of: ${describeStoredDatasets(ws)}.`,
    );
  const d = loadDataset(ws, id);
  return {
    data: { images: d.images as Uint8Array, labels: d.labels as Int32Array, count: d.count, shape: d.shape },
    labelNames: d.manifest.labelNames,
  };
}

async function latentsCommand({ values, ws, out }: Invocation): Promise<number> {
  if (!values.dataset)
    throw new UsageError(
      `--dataset NAME is required (${BUILTIN_NAMES.join(', ')} or a stored dataset's id or name; see 'ae-studio datasets').`,
    );
  if (!values.out) throw new UsageError('--out codes.csv is required.');
  const dir = trainedRunDir(ws, values.run);
  const { writeLatentsCsv } = await import('../formats');
  const { loadTrained } = await import('../engine/trained-model');
  const name = values.dataset;
  const { data, labelNames } = latentsDataset(ws, name);
  const trained = await loadTrained(dir);
  try {
    const res = await writeLatentsCsv(trained, data, path.resolve(values.out), { labelNames });
    out(
      values.json
        ? JSON.stringify({ run: values.run, dataset: name, latentDim: trained.config.latentDim, ...res })
        : `Wrote ${res.rows} codes (${trained.config.latentDim}-d) of '${name}' to ${res.files[0]}`,
    );
  } finally {
    trained.dispose();
  }
  return 0;
}

/** Runs the CLI like the installed command: the exit code, errors on `err` (usage errors with the usage). */
export async function main(
  argv: string[],
  out: (s: string) => void = (s) => console.log(s),
  err: (s: string) => void = (s) => console.error(s),
): Promise<number> {
  try {
    return await run(argv, out);
  } catch (e) {
    err(`ae-studio: ${(e as Error).message}`);
    if (e instanceof UsageError && e.showUsage) err(USAGE);
    return e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
  }
}

// Run when executed (not when imported by tests).
if (require.main === module) {
  const argv = process.argv.slice(2);
  quietTensorFlow(argv, () => main(argv).then((code) => process.exit(code)));
}
