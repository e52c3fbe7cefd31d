// `ae-studio job`: cluster jobs from a terminal.
//   ae-studio job export --workspace WS (--run ID [--from-checkpoint] | --config FILE --dataset NAME) --out JOBDIR [--json]
//   ae-studio job import JOBDIR --workspace WS [--json]
// export writes a PyTorch DistributedDataParallel job folder (train.py, launch.sh, slurm.sbatch,
// README.md, requirements.txt, the images, initial weights) atomically; import reads a trained
// job folder back without Python and adds it to the workspace as a run (run.json, config.json,
// model/, checkpoint/), or refuses it with the reason and writes nothing.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { StoredRunSummary, type RunSummary } from '../contract';
import { jobRunSummary, newJobRunId } from '../host/jobs';
import { holdNewRunFolder } from '../host/ownership';
import { readConfigFile } from './train';

export const JOB_USAGE = `  ae-studio job export --workspace DIR (--run ID [--from-checkpoint] | --config FILE --dataset NAME) --out JOBDIR [--json]
  ae-studio job import JOBDIR --workspace DIR [--json]`;

/** A usage error: main.ts exits 2 for codes starting with ERR_PARSE_ARGS. */
class JobUsageError extends Error {
  readonly code = 'ERR_PARSE_ARGS_JOB_USAGE';
  constructor(message: string) {
    super(`${message}\nUsage:\n${JOB_USAGE}`);
  }
}

const RUN_ID_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Runs `ae-studio job …` (argv after 'job'); resolves with the exit code. */
export async function runJob(argv: string[], out: (s: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        workspace: { type: 'string' },
        run: { type: 'string' },
        'from-checkpoint': { type: 'boolean', default: false },
        config: { type: 'string' },
        dataset: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    throw new JobUsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [sub, ...rest] = positionals;
  if (values.help || !sub) {
    out(`Usage:\n${JOB_USAGE}`);
    return values.help ? 0 : 2;
  }
  if (!values.workspace) throw new JobUsageError('--workspace DIR is required.');
  const ws = path.resolve(values.workspace);

  if (sub === 'export') {
    if (!values.out) throw new JobUsageError('--out JOBDIR is required.');
    if (!!values.run === !!values.config) throw new JobUsageError('Give either --run ID or --config FILE --dataset NAME.');
    if (values['from-checkpoint'] && !values.run) throw new JobUsageError('--from-checkpoint continues a run: give --run ID.');
    const { exportJobFromWorkspace } = await import('../trainer/jobs');
    let res;
    if (values.run) {
      const runId = values.run;
      if (!RUN_ID_RE.test(runId)) throw new JobUsageError(`'${runId}' is not a run id.`);
      const runDir = path.join(ws, 'runs', runId);
      let summary: RunSummary;
      try {
        const parsed = StoredRunSummary.safeParse(JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')));
        if (!parsed.success) {
          const i = parsed.error.issues[0];
          throw new Error(`it does not describe a run (${i?.path.join('.') || 'the file'}: ${i?.message})`);
        }
        summary = parsed.data;
      } catch (err) {
        throw new Error(`There is no readable run '${runId}' in ${ws} (${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no run.json' : (err as Error).message}).`);
      }
      res = await exportJobFromWorkspace({
        workspaceDir: ws,
        out: path.resolve(values.out),
        run: { runId, runDir, config: summary.config, dataset: summary.dataset },
        fromCheckpoint: values['from-checkpoint'],
      });
    } else {
      if (!values.dataset) throw new JobUsageError('--dataset NAME is required with --config (mnist, fashion-mnist, shapes or a stored dataset id or name).');
      let config: unknown;
      try {
        // the same file `ae-studio train --config` takes: a config, or { config, dataset } as the Model view shows it
        config = readConfigFile(path.resolve(values.config as string)).config;
      } catch (err) {
        throw new Error(`The config file ${values.config} cannot be read: ${(err as Error).message}`);
      }
      res = await exportJobFromWorkspace({ workspaceDir: ws, out: path.resolve(values.out), config, datasetName: values.dataset });
    }
    const j = res.job;
    if (values.json) out(JSON.stringify({ out: path.resolve(values.out), files: res.files, bytes: res.bytes, name: j.name, startEpoch: j.startEpoch, epochs: j.epochs, images: j.dataset.count }));
    else {
      out(
        `Wrote the cluster job '${j.name}' to ${path.resolve(values.out)} (${res.files.length} files, ${res.bytes.toLocaleString('en-US')} bytes): ` +
          `${j.dataset.count} images, ${j.startEpoch ? `continues after epoch ${j.startEpoch}, ` : ''}${j.epochs} epochs by default.\n` +
          `Run it with: ${path.resolve(values.out)}/launch.sh --workers N   (see its README.md)`,
      );
    }
    return 0;
  }

  if (sub === 'import') {
    const src = rest[0];
    if (!src || rest.length > 1) throw new JobUsageError('Give one job folder to import.');
    const { importJobIntoWorkspace, cleanupFailedImport } = await import('../trainer/jobs');
    const runId = newJobRunId();
    const runDir = path.join(ws, 'runs', runId);
    let res;
    let summary: RunSummary;
    // held while the folder fills, so a studio open on the workspace lists the run only once its run.json is there
    const held = await holdNewRunFolder(runDir, 'cli');
    try {
      res = await importJobIntoWorkspace({ src: path.resolve(src), runDir, workspaceDir: ws });
      summary = jobRunSummary(runId, res);
      const { writeJsonAtomic } = await import('../fs-safety/atomic');
      writeJsonAtomic(path.join(runDir, 'run.json'), summary);
    } catch (err) {
      cleanupFailedImport(runDir, res?.addedDataset ? path.join(ws, 'datasets', res.addedDataset) : undefined);
      throw err;
    } finally {
      await held.release();
    }
    if (values.json)
      out(JSON.stringify({ runId, status: res.status, epochsDone: res.epochsDone, history: res.history, dataset: res.dataset, addedDataset: res.addedDataset ?? null, message: summary.message }));
    else out(`Imported as run '${runId}' (${res.status}, ${res.epochsDone} epochs, last loss ${res.history.loss.at(-1)?.toFixed(5) ?? '—'}). ${summary.message}`);
    return 0;
  }
  throw new JobUsageError(`Unknown job command '${sub}'.`);
}
