// Host side of `jobs:*`: a run written as a PyTorch cluster job into
// <workspace>/exports/<exportId>/ (the trainer process writes it: it owns tfjs-node, which reads the
// checkpoint and makes the initial weights), and a trained job folder imported as a new run. A
// refused import leaves nothing behind: the run folder is removed and no run is listed.
import fs from 'node:fs';
import path from 'node:path';
import { exportFileBase, type ExportRecord, type RunSummary } from '../contract';
import type { TrainerSupervisor } from '../trainer/supervisor';
import type { MethodResult } from '../trainer/protocol';
import { readableDir, removeIfEmpty, writeJsonAtomic } from '../fs-safety/atomic';
import { CallError, type Handlers } from './dispatch';
import { newExportId, type HostDialogs } from './exports';
import { describeProgress, JobWatchError, readJobProgress } from '../cluster/watch';
import { holdNewRunFolder } from './ownership';

type JobHandlers = Pick<Handlers, 'jobs:export' | 'jobs:import' | 'jobs:progress'>;

export interface JobsDeps {
  trainer: TrainerSupervisor;
  workspaceDir: string;
  dialogs?: HostDialogs;
  getRun(runId: string): { run: RunSummary; dir: string } | undefined;
  /** The workspace's runs (the job folder is named by the run's name, unique among them). */
  listRuns?(): RunSummary[];
  addImportedRun(run: RunSummary): void | Promise<void>;
  /** Which studio this is (recorded in the owner.json of a run being imported). */
  app?: 'electron' | 'serve' | 'cli';
}

const JOB_TIMEOUT_MS = 10 * 60_000;

/** The id of a run made from an imported cluster job (the window and `ae-studio job import` alike). */
export const newJobRunId = (): string => `imported-job-${newExportId().slice(4)}`;

/** The run a trained cluster job becomes: its status, config, dataset, history and how it trained on the cluster. */
export function jobRunSummary(runId: string, res: MethodResult<'importJob'>): RunSummary {
  return {
    runId,
    status: res.status,
    config: res.config,
    dataset: res.dataset,
    epochsDone: res.epochsDone,
    history: res.history,
    startedAt: Date.now(),
    message: `${res.message}${res.addedDataset ? ` Its images were added to the workspace as dataset '${res.addedDataset}'.` : ''}`,
    cluster: res.cluster,
    ...(res.metrics ? { metrics: res.metrics } : {}),
  };
}

export function jobHandlers(deps: JobsDeps): JobHandlers {
  const ws = deps.workspaceDir;
  return {
    'jobs:export': async ({ runId, fromCheckpoint }) => {
      const r = deps.getRun(runId);
      if (!r) throw new CallError('not_found', `There is no run '${runId}' in this workspace.`);
      const config = r.run.config;
      if (r.run.status === 'damaged' || !config)
        throw new CallError(
          'conflict',
          `Run '${runId}' cannot be exported: ${r.run.message ?? 'its run.json is damaged'}`,
        );
      if (fromCheckpoint) {
        if (r.run.status === 'running' || r.run.status === 'queued')
          throw new CallError(
            'conflict',
            `Run '${runId}' is ${r.run.status}; stop it (its checkpoint changes every epoch) or export the job without its checkpoint.`,
          );
        if (!readableDir(path.join(r.dir, 'checkpoint')))
          throw new CallError(
            'conflict',
            `Run '${runId}' has no checkpoint yet (no epoch finished); export the job without its checkpoint to train from the start.`,
          );
      }
      const exportId = newExportId();
      const dir = path.join(ws, 'exports', exportId);
      const fileName = `${exportFileBase(r.run, deps.listRuns?.() ?? [])}-torch-job`;
      fs.mkdirSync(dir, { recursive: true });
      try {
        const written = await deps.trainer.request(
          'exportJob',
          {
            runId,
            runDir: r.dir,
            workspaceDir: ws,
            config,
            dataset: r.run.dataset,
            fromCheckpoint,
            out: path.join(dir, fileName),
          },
          JOB_TIMEOUT_MS,
        );
        const rec: ExportRecord = {
          exportId,
          runId,
          kind: 'job',
          format: 'torch',
          fileName,
          bytes: written.bytes,
          files: written.files.map((f) => path.relative(dir, f)).sort(),
          createdAt: Date.now(),
          download: `/exports/${exportId}`,
        };
        writeJsonAtomic(path.join(dir, 'export.json'), rec);
        return rec;
      } catch (err) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw err; // dispatch's hostErrorCode words it
      }
    },
    'jobs:import': async ({ path: given }) => {
      let src = given;
      if (!src) {
        if (!deps.dialogs)
          throw new CallError(
            'invalid_payload',
            'Give the folder of a trained cluster job (the one holding job.json and out/).',
          );
        src = await deps.dialogs.pickDirectory('Import a trained cluster job');
        if (!src) return { cancelled: true };
      }
      if (!fs.existsSync(path.join(src, 'job.json')))
        throw new CallError(
          'invalid_payload',
          `${src} has no job.json: choose the folder of a cluster job written by Export › Train on a cluster.`,
        );
      const runId = newJobRunId();
      const runDir = path.join(ws, 'runs', runId);
      let res: MethodResult<'importJob'>;
      // held while the folder fills, so another studio lists the run only once its run.json is there
      const held = await holdNewRunFolder(runDir, deps.app ?? 'unknown');
      try {
        try {
          res = await deps.trainer.request('importJob', { src, runDir, workspaceDir: ws }, JOB_TIMEOUT_MS);
        } catch (err) {
          fs.rmSync(runDir, { recursive: true, force: true });
          removeIfEmpty(path.dirname(runDir)); // a refused import writes nothing: not even the runs/ folder the lock needed
          throw err; // dispatch's hostErrorCode words it
        }
        await deps.addImportedRun(jobRunSummary(runId, res));
      } finally {
        await held.release();
      }
      return { cancelled: false, runId };
    },
    'jobs:progress': ({ path: dir }) => {
      try {
        const p = readJobProgress(dir);
        const last = p.epochs.at(-1);
        return {
          name: p.name,
          status: p.status,
          startEpoch: p.startEpoch,
          epochsDone: p.epochsDone,
          targetEpoch: p.targetEpoch,
          loss: p.epochs.map((e) => e.train_loss),
          valLoss: p.epochs.map((e) => e.val_loss),
          samplesPerSec: last?.samples_per_sec ?? null,
          workers: last?.world_size ?? null,
          etaSec: p.etaSec,
          message: p.message,
          line: describeProgress(p),
        };
      } catch (err) {
        if (err instanceof JobWatchError) throw new CallError('invalid_payload', err.message);
        throw err;
      }
    },
  };
}
