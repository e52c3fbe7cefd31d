// Host side of `noise:preview` and `models:speed`: the trainer process (which owns tfjs-node)
// corrupts the first images of the chosen dataset with the engine's noise, or times the training
// step at a few batch sizes; failures become plain-words errors.
import type { Handlers } from './dispatch';
import { CallError } from './dispatch';
import type { TrainerSupervisor } from '../trainer/supervisor';

export function noiseHandlers(trainer: TrainerSupervisor, workspaceDir: string, trainingNow: () => number): Pick<Handlers, 'noise:preview' | 'models:speed'> {
  return {
    // Batch-size guidance lives here too: another quick, trainer-side look at the chosen setup.
    'models:speed': async ({ config }) => {
      if (trainingNow() > 0) throw new CallError('invalid_payload', 'Measure the speed when no run is training: a measurement would slow the run down, and the run would skew the numbers.');
      try {
        return await trainer.request('batchRates', { config }, 60_000);
      } catch (err) {
        const code = (err as { code?: string }).code;
        throw new CallError(code === 'trainer_unavailable' || code === 'timeout' ? code : 'invalid_payload', (err as Error).message);
      }
    },
    'noise:preview': async ({ dataset, noise, count, seed, augment }) => {
      try {
        return await trainer.request('noisePreview', { dataset, noise, count, seed, workspaceDir, ...(augment ? { augment } : {}) }, 30_000);
      } catch (err) {
        const code = (err as { code?: string }).code;
        throw new CallError(code === 'trainer_unavailable' || code === 'timeout' ? code : 'invalid_payload', (err as Error).message);
      }
    },
  };
}
