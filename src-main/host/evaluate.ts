// Host side of `evaluate:run`: checks the run has a trained model, then asks the trainer process
// (which owns tfjs-node and caches the evaluation per run) to evaluate it on the run's dataset.
import fs from 'node:fs';
import path from 'node:path';
import type { Handlers } from './dispatch';
import { CallError } from './dispatch';
import { calls, type RunSummary } from '../contract';
import type { TrainerSupervisor } from '../trainer/supervisor';

export function evaluateHandlers(
  trainer: TrainerSupervisor,
  workspaceDir: string,
  getRun: (id: string) => { run: RunSummary; dir: string } | undefined,
): Pick<Handlers, 'evaluate:run'> {
  return {
    'evaluate:run': async ({ runId, anomalous }) => {
      const r = getRun(runId);
      if (!r) throw new CallError('not_found', `There is no run '${runId}' in this workspace.`);
      if (!fs.existsSync(path.join(r.dir, 'model', 'encoder', 'model.json'))) {
        throw new CallError(
          'conflict',
          `Run '${runId}' has no trained model yet (it is ${r.run.status}); evaluation needs a finished run.`,
        );
      }
      const answer = await trainer.request(
        'evaluate',
        { runDir: r.dir, workspaceDir, dataset: r.run.dataset, anomalous },
        5 * 60_000,
      );
      const checked = calls['evaluate:run'].res.safeParse(answer);
      if (!checked.success)
        throw new CallError(
          'internal',
          `The trainer's evaluation does not have the expected shape (${checked.error.issues[0]?.path.join('.')}: ${checked.error.issues[0]?.message}).`,
        );
      return checked.data;
    },
  };
}
