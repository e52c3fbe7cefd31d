// Host side of the `backend:*` and `trainer:*` calls.
import type { Handlers } from './dispatch';
import type { TrainerSupervisor } from '../trainer/supervisor';

export function trainerHandlers(
  trainer: TrainerSupervisor,
): Pick<Handlers, 'backend:info' | 'trainer:ping' | 'trainer:restart'> {
  return {
    'backend:info': () => trainer.start(),
    'trainer:ping': ({ nonce }) => trainer.request('ping', { nonce }),
    'trainer:restart': async () => {
      await trainer.restart();
      return trainer.state;
    },
  };
}
