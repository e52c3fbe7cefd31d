// Host side of `evaluate:run`: checks the run has a trained model, then asks the trainer process
// (which owns tfjs-node and caches the evaluation per run) to evaluate it on the run's dataset.
import fs from 'node:fs';
import path from 'node:path';
import type { Handlers } from './dispatch';
import { CallError } from './dispatch';
import type { RunSummary } from '../contract';
import type { TrainerSupervisor } from '../trainer/supervisor';

export function evaluateHandlers(trainer: TrainerSupervisor, workspaceDir: string, getRun: (id: string) => { run: RunSummary; dir: string } | undefined): Pick<Handlers, 'evaluate:run'> {
  return {
    'evaluate:run': async ({ runId, anomalous }) => {
      const r = getRun(runId);
      if (!r) throw new CallError('invalid_payload', `There is no run '${runId}' in this session.`);
      if (!fs.existsSync(path.join(r.dir, 'model', 'encoder', 'model.json'))) {
        throw new CallError('invalid_payload', `Run '${runId}' has no trained model yet (it is ${r.run.status}); evaluation needs a finished run.`);
      }
      try {
        return (await trainer.request('evaluate', { runDir: r.dir, workspaceDir, dataset: r.run.dataset, anomalous }, 5 * 60_000)) as never;
      } catch (err) {
        throw new CallError((err as { code?: string }).code === 'trainer_unavailable' ? 'trainer_unavailable' : 'invalid_payload', (err as Error).message);
      }
    },
  };
}
