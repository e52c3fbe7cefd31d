// Host side of `datasets:*`: listing, previews, rename and delete read small files from the
// store; making a built-in ready (decoding tens of thousands of images) runs in the trainer.
import type { Handlers } from './dispatch';
import { CallError } from './dispatch';
import type { TrainerSupervisor } from '../trainer/supervisor';
import { deleteDataset, listDatasets, previewDataset, renameDataset } from '../datasets/store';

const b64 = (a: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** Store errors (a missing or damaged dataset) reach the user as plain words, not 'internal'. */
function userError<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new CallError('invalid_payload', (err as Error).message);
  }
}

export function datasetHandlers(trainer: TrainerSupervisor, workspaceDir: string): Pick<Handlers, 'datasets:list' | 'datasets:addBuiltin' | 'datasets:preview' | 'datasets:rename' | 'datasets:delete'> {
  return {
    'datasets:list': () => listDatasets(workspaceDir),
    'datasets:addBuiltin': ({ name }) => trainer.request('datasetBuiltin', { name, workspaceDir }, 120_000),
    'datasets:preview': ({ id, count }) =>
      userError(() => {
        const p = previewDataset(workspaceDir, id, count);
        return { manifest: p.manifest, images: p.images.map(b64), mean: b64(p.mean) };
      }),
    'datasets:rename': ({ id, name }) => userError(() => renameDataset(workspaceDir, id, name)),
    'datasets:delete': ({ id }) => userError(() => (deleteDataset(workspaceDir, id), { deleted: true as const })),
  };
}
