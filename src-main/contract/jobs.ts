// Cluster jobs over the contract: a run (its config and dataset, optionally its last
// checkpoint) written as a PyTorch DistributedDataParallel job folder to train on a cluster with
// torchrun, and a trained job folder brought back as a run (RunSummary.cluster in runs.ts says how
// it trained there). The job lands in the workspace's exports/ like every export (downloaded as a
// .zip in serve mode, Save as… on the desktop).
import { z } from 'zod';
import { RunId } from './runs';
import { AbsolutePath } from './workspace';
import { ExportRecord } from './export';

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
};
