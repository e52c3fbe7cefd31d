// Host side of `gallery:*`: checks the run has a trained model, then asks the trainer process
// (which owns tfjs-node and caches the loaded model) for the view.
import fs from 'node:fs';
import path from 'node:path';
import type { Handlers } from './dispatch';
import { CallError } from './dispatch';
import type { RunSummary } from '../contract';
import type { TrainerSupervisor } from '../trainer/supervisor';

type Op = 'triplets' | 'samples' | 'worst' | 'latent' | 'manifold' | 'interpolate';
type GalleryHandlers = Pick<Handlers, `gallery:${Op}` | 'gallery:try'>;

export function galleryHandlers(trainer: TrainerSupervisor, workspaceDir: string, getRun: (id: string) => { run: RunSummary; dir: string } | undefined): GalleryHandlers {
  const trained = (runId: string) => {
    const r = getRun(runId);
    if (!r) throw new CallError('invalid_payload', `There is no run '${runId}' in this session.`);
    if (!fs.existsSync(path.join(r.dir, 'model', 'encoder', 'model.json'))) {
      throw new CallError('invalid_payload', `Run '${runId}' has no trained model yet (it is ${r.run.status}); the Gallery shows finished runs.`);
    }
    return r;
  };
  const view = async (op: Op, runId: string, params: Record<string, number>) => {
    const r = getRun(runId);
    if (!r) throw new CallError('invalid_payload', `There is no run '${runId}' in this session.`);
    // A finished run, or one imported from a TensorFlow.js export (it keeps training from there).
    if (!fs.existsSync(path.join(r.dir, 'model', 'encoder', 'model.json'))) {
      throw new CallError('invalid_payload', `Run '${runId}' has no trained model yet (it is ${r.run.status}); the Gallery shows finished runs.`);
    }
    try {
      return await trainer.request('gallery', { op, runDir: r.dir, workspaceDir, dataset: r.run.dataset, params }, 60_000);
    } catch (err) {
      throw new CallError((err as { code?: string }).code === 'trainer_unavailable' ? 'trainer_unavailable' : 'invalid_payload', (err as Error).message);
    }
  };
  return {
    'gallery:triplets': ({ runId, count }) => view('triplets', runId, { count }) as never,
    'gallery:samples': ({ runId, count, seed }) => view('samples', runId, { count, seed }) as never,
    'gallery:worst': ({ runId, count }) => view('worst', runId, { count }) as never,
    'gallery:latent': ({ runId, max }) => view('latent', runId, { max }) as never,
    'gallery:manifold': ({ runId, grid }) => view('manifold', runId, { grid }) as never,
    'gallery:interpolate': ({ runId, a, b, steps }) => view('interpolate', runId, { a, b, steps }) as never,
    'gallery:try': async ({ runId, files }) => {
      const r = trained(runId);
      try {
        return (await trainer.request('galleryTry', { runDir: r.dir, workspaceDir, dataset: r.run.dataset, files }, 60_000)) as never;
      } catch (err) {
        throw new CallError((err as { code?: string }).code === 'trainer_unavailable' ? 'trainer_unavailable' : 'invalid_payload', (err as Error).message);
      }
    },
  };
}
