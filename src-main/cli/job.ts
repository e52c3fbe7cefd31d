// `ae-studio job`: cluster jobs from a terminal.
//   ae-studio job export --workspace WS (--run ID [--from-checkpoint] | --config FILE --dataset NAME) --out JOBDIR [--json]
//   ae-studio job import JOBDIR --workspace WS [--json]
//   ae-studio job watch JOBDIR [--interval S] [--timeout S] [--once] [--json] [--import --workspace WS]
// export writes a PyTorch DistributedDataParallel job folder (train.py, launch.sh, slurm.sbatch,
// README.md, requirements.txt, the images, initial weights) atomically; import reads a trained
// job folder back without Python and adds it to the workspace as a run (run.json, config.json,
// model/, checkpoint/), or refuses it with the reason and writes nothing. watch follows a job
// training elsewhere (its folder on a shared filesystem: out/progress.json, metrics.jsonl,
// done.json) and prints a line per epoch until it ends, then says how to import it (or imports it).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { StoredRunSummary, type RunSummary } from '../contract';
import { jobRunSummary, newJobRunId } from '../host/jobs';
import { holdNewRunFolder } from '../host/ownership';
import { readConfigFile } from './train';
import { describeProgress, formatDuration, readJobProgress, type JobProgress } from '../cluster/watch';

/**
 * Follows a job folder until the job is done or failed (or `timeout` seconds pass; 0 = no limit):
 * a line whenever an epoch finishes or the status changes, and a note when no epoch has come for
 * three times the job's pace (is it still running?). `once` prints where it stands and returns.
 */
export async function watchJob(
  dir: string,
  o: { interval: number; timeout: number; once: boolean; json: boolean },
  out: (s: string) => void,
): Promise<{ status: JobProgress['status'] | 'timeout'; progress: JobProgress }> {
  const started = Date.now();
  let shown = '';
  let lastChange = Date.now();
  let warned = false;
  for (;;) {
    const p = readJobProgress(dir);
    const key = `${p.status}/${p.epochsDone}/${p.epochs.length}`;
    if (key !== shown) {
      shown = key;
      lastChange = Date.now();
      warned = false;
      if (o.json)
        out(
          JSON.stringify({
            status: p.status,
            epochsDone: p.epochsDone,
            targetEpoch: p.targetEpoch,
            loss: p.epochs.at(-1)?.train_loss ?? null,
            valLoss: p.epochs.at(-1)?.val_loss ?? null,
            samplesPerSec: p.epochs.at(-1)?.samples_per_sec ?? null,
            etaSec: p.etaSec,
            message: p.message,
          }),
        );
      else out(describeProgress(p));
    } else if (
      !warned &&
      p.status === 'training' &&
      p.secondsPerEpoch !== null &&
      Date.now() - lastChange > 3000 * Math.max(p.secondsPerEpoch, o.interval)
    ) {
      warned = true;
      if (!o.json)
        out(
          `No new epoch for ${formatDuration((Date.now() - lastChange) / 1000)} (an epoch takes about ${formatDuration(p.secondsPerEpoch)}): is the job still running?`,
        );
    }
    if (p.status === 'done' || p.status === 'failed' || o.once) return { status: p.status, progress: p };
    if (o.timeout > 0 && Date.now() - started > o.timeout * 1000) {
      if (!o.json) out(`Still ${p.status} after ${formatDuration(o.timeout)} of watching; watch it again later.`);
      return { status: 'timeout', progress: p };
    }
    await new Promise((r) => setTimeout(r, o.interval * 1000));
  }
}

export const JOB_USAGE = `  ae-studio job export --workspace DIR (--run ID [--from-checkpoint] | --config FILE --dataset NAME) --out JOBDIR [--json]
  ae-studio job import JOBDIR --workspace DIR [--json]
  ae-studio job watch JOBDIR [--interval SECONDS] [--timeout SECONDS] [--once] [--json] [--import --workspace DIR]`;

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
        interval: { type: 'string' },
        timeout: { type: 'string' },
        once: { type: 'boolean', default: false },
        import: { type: 'boolean', default: false },
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
  if (sub === 'watch') {
    const dir = rest[0];
    if (!dir || rest.length > 1) throw new JobUsageError('Give one job folder to watch.');
    if (values.import && !values.workspace)
      throw new JobUsageError('--import needs --workspace DIR (the workspace the run goes into).');
    const seconds = (v: string | undefined, name: string, dflt: number) => {
      if (v === undefined) return dflt;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || (name === '--interval' && n < 0.05))
        throw new JobUsageError(
          `${name} takes seconds (a number${name === '--interval' ? ' of at least 0.05' : ''}), not '${v}'.`,
        );
      return n;
    };
    const interval = seconds(values.interval, '--interval', 10);
    const timeout = seconds(values.timeout, '--timeout', 0);
    const end = await watchJob(path.resolve(dir), { interval, timeout, once: values.once, json: values.json }, out);
    if (end.status !== 'done') return end.status === 'failed' ? 1 : end.status === 'timeout' ? 3 : 0;
    if (!values.import) {
      if (!values.json)
        out(`The job has finished. Bring it back with: ae-studio job import ${path.resolve(dir)} --workspace DIR`);
      return 0;
    }
    return runJob(
      ['import', path.resolve(dir), '--workspace', values.workspace as string, ...(values.json ? ['--json'] : [])],
      out,
    );
  }

  if (!values.workspace) throw new JobUsageError('--workspace DIR is required.');
  const ws = path.resolve(values.workspace);

  if (sub === 'export') {
    if (!values.out) throw new JobUsageError('--out JOBDIR is required.');
    if (!!values.run === !!values.config)
      throw new JobUsageError('Give either --run ID or --config FILE --dataset NAME.');
    if (values['from-checkpoint'] && !values.run)
      throw new JobUsageError('--from-checkpoint continues a run: give --run ID.');
    const { exportJobFromWorkspace } = await import('../trainer/jobs');
    let res;
    if (values.run) {
      const runId = values.run;
      if (!RUN_ID_RE.test(runId)) throw new JobUsageError(`'${runId}' is not a run id.`);
      const runDir = path.join(ws, 'runs', runId);
      let summary: StoredRunSummary;
      try {
        const parsed = StoredRunSummary.safeParse(JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')));
        if (!parsed.success) {
          const i = parsed.error.issues[0];
          throw new Error(`it does not describe a run (${i?.path.join('.') || 'the file'}: ${i?.message})`);
        }
        summary = parsed.data;
      } catch (err) {
        throw new Error(
          `There is no readable run '${runId}' in ${ws} (${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no run.json' : (err as Error).message}).`,
        );
      }
      res = await exportJobFromWorkspace({
        workspaceDir: ws,
        out: path.resolve(values.out),
        run: { runId, runDir, config: summary.config, dataset: summary.dataset },
        fromCheckpoint: values['from-checkpoint'],
      });
    } else {
      if (!values.dataset)
        throw new JobUsageError(
          '--dataset NAME is required with --config (mnist, fashion-mnist, shapes or a stored dataset id or name).',
        );
      let config: Record<string, unknown>;
      try {
        // the same file `ae-studio train --config` takes: a config, or { config, dataset } as the Model view shows it
        config = readConfigFile(path.resolve(values.config as string)).config;
      } catch (err) {
        throw new Error(`The config file ${values.config} cannot be read: ${(err as Error).message}`);
      }
      res = await exportJobFromWorkspace({
        workspaceDir: ws,
        out: path.resolve(values.out),
        config,
        datasetName: values.dataset,
      });
    }
    const j = res.job;
    if (values.json)
      out(
        JSON.stringify({
          out: path.resolve(values.out),
          files: res.files,
          bytes: res.bytes,
          name: j.name,
          startEpoch: j.startEpoch,
          epochs: j.epochs,
          images: j.dataset.count,
        }),
      );
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
      out(
        JSON.stringify({
          runId,
          status: res.status,
          epochsDone: res.epochsDone,
          history: res.history,
          dataset: res.dataset,
          addedDataset: res.addedDataset ?? null,
          message: summary.message,
          metrics: res.metrics ?? null,
        }),
      );
    else {
      const t = res.metrics?.test;
      out(
        `Imported as run '${runId}' (${res.status}, ${res.epochsDone} epochs, last loss ${res.history.loss.at(-1)?.toFixed(5) ?? '—'}). ${summary.message}` +
          (t
            ? `\nTest split (${t.count} images, never trained on): loss ${t.loss.toFixed(5)}, MSE ${t.mse.toFixed(5)}, PSNR ${t.psnr.toFixed(2)} dB, SSIM ${t.ssim.toFixed(3)}.`
            : ''),
      );
    }
    return 0;
  }
  throw new JobUsageError(`Unknown job command '${sub}'.`);
}
