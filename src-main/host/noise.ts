// Host side of `noise:preview` and `models:speed`: the trainer process (which owns tfjs-node)
// corrupts the first images of the chosen dataset with the engine's noise, or times the training
// step at a few batch sizes; failures reach the client through dispatch's one error mapping.
import type { Handlers } from './dispatch';
import { CallError } from './dispatch';
import type { TrainerSupervisor } from '../trainer/supervisor';

export function noiseHandlers(
  trainer: TrainerSupervisor,
  workspaceDir: string,
  trainingNow: () => number,
): Pick<Handlers, 'noise:preview' | 'models:speed'> {
  return {
    // Batch-size guidance lives here too: another quick, trainer-side look at the chosen setup.
    'models:speed': async ({ config }) => {
      if (trainingNow() > 0)
        throw new CallError(
          'conflict',
          'Measure the speed when no run is training: a measurement would slow the run down, and the run would skew the numbers.',
        );
      return trainer.request('batchRates', { config }, 60_000);
    },
    'noise:preview': async ({ dataset, noise, count, seed, augment }) => {
      return trainer.request(
        'noisePreview',
        { dataset, noise, count, seed, workspaceDir, ...(augment ? { augment } : {}) },
        30_000,
      );
    },
  };
}
