// Cluster jobs over the contract: a run (its config and dataset, optionally its last
// checkpoint) written as a PyTorch DistributedDataParallel job folder to train on a cluster with
// torchrun, and a trained job folder brought back as a run (RunSummary.cluster in runs.ts says how
// it trained there). The job lands in the workspace's exports/ like every export (downloaded as a
// .zip in serve mode, Save as… on the desktop).
import { z } from 'zod';
import { RunId } from './runs';
import { AbsolutePath } from './workspace';
import { ExportRecord } from './export';

/** A cluster job's progress as the Export view shows it. */
export const JobProgressView = z.object({
  name: z.string(),
  /** waiting: not started; training; done: finished (import it); failed: train.py gave up (`message`). */
  status: z.enum(['waiting', 'training', 'done', 'failed']),
  startEpoch: z.number().int(),
  epochsDone: z.number().int(),
  targetEpoch: z.number().int(),
  /** The epochs the job trained so far: training and validation loss. */
  loss: z.array(z.number()),
  valLoss: z.array(z.number().nullable()),
  samplesPerSec: z.number().nullable(),
  workers: z.number().int().nullable(),
  etaSec: z.number().nullable(),
  message: z.string().nullable(),
  /** One line in words (epoch, loss, curve, speed, ETA), as `ae-studio job watch` prints it. */
  line: z.string(),
});
export type JobProgressView = z.infer<typeof JobProgressView>;

export const jobCalls = {
  /**
   * Writes a cluster job for a run into exports/ (kind `job`, format `torch`): train.py, launch.sh,
   * slurm.sbatch, README.md, requirements.txt, the run's images and initial weights. With
   * `fromCheckpoint` it continues from the run's last checkpoint (weights, optimizer, history).
   */
  'jobs:export': {
    req: z.object({ runId: RunId, fromCheckpoint: z.boolean().default(false) }).strict(),
    res: ExportRecord,
  },
  /**
   * Imports a trained cluster job folder as a new run with its loss history (Gallery, Export and
   * Resume work on it). Without `path` the desktop app shows a native folder dialog. A job that is
   * incomplete, from another version or whose weights do not fit its config is refused with the
   * reason, and nothing is written to the workspace.
   */
  'jobs:import': {
    req: z.object({ path: AbsolutePath.optional() }).strict(),
    res: z.object({ cancelled: z.boolean(), runId: RunId.optional() }),
  },
  /**
   * Where a cluster job stands while it trains elsewhere (its folder on a shared filesystem): read
   * from the folder's out/progress.json, metrics.jsonl and done.json, nothing written. The Export
   * view polls it; `ae-studio job watch` prints the same `line`.
   */
  'jobs:progress': {
    req: z.object({ path: AbsolutePath }).strict(),
    res: JobProgressView,
  },
};
