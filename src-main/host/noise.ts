// Host side of `noise:preview`: the trainer process (which owns tfjs-node) corrupts the first
// images of the chosen dataset with the engine's noise; a missing dataset is a plain-words error.
import type { Handlers } from './dispatch';
import { CallError } from './dispatch';
import type { TrainerSupervisor } from '../trainer/supervisor';

export function noiseHandlers(trainer: TrainerSupervisor, workspaceDir: string): Pick<Handlers, 'noise:preview'> {
  return {
    'noise:preview': async ({ dataset, noise, count, seed }) => {
      try {
        return await trainer.request('noisePreview', { dataset, noise, count, seed, workspaceDir }, 30_000);
      } catch (err) {
        const code = (err as { code?: string }).code;
        throw new CallError(code === 'trainer_unavailable' || code === 'timeout' ? code : 'invalid_payload', (err as Error).message);
      }
    },
  };
}
