// Host side of `gallery:*`: checks the run has a trained model, then asks the trainer process
// (which owns tfjs-node and caches the loaded model) for the view, and checks the answer against
// the call's response schema before it leaves the host.
import fs from 'node:fs';
import path from 'node:path';
import type { Handlers } from './dispatch';
import { CallError } from './dispatch';
import { calls, type CallRes, type RunSummary } from '../contract';
import type { TrainerSupervisor } from '../trainer/supervisor';

type Op = 'triplets' | 'samples' | 'worst' | 'latent' | 'manifold' | 'interpolate';
type GalleryHandlers = Pick<Handlers, `gallery:${Op}`>;

export function galleryHandlers(trainer: TrainerSupervisor, workspaceDir: string, getRun: (id: string) => { run: RunSummary; dir: string } | undefined): GalleryHandlers {
  const view = async <O extends Op>(op: O, runId: string, params: Record<string, number>): Promise<CallRes<`gallery:${O}`>> => {
    const r = getRun(runId);
    if (!r) throw new CallError('not_found', `There is no run '${runId}' in this workspace.`);
    // A finished run, or one imported from a TensorFlow.js export (it keeps training from there).
    if (!fs.existsSync(path.join(r.dir, 'model', 'encoder', 'model.json'))) {
      throw new CallError('conflict', `Run '${runId}' has no trained model yet (it is ${r.run.status}); the Gallery shows finished runs.`);
    }
    const answer = await trainer.request('gallery', { op, runDir: r.dir, workspaceDir, dataset: r.run.dataset, params }, 60_000);
    const checked = calls[`gallery:${op}`].res.safeParse(answer);
    if (!checked.success) throw new CallError('internal', `The trainer's ${op} view does not have the expected shape (${checked.error.issues[0]?.path.join('.')}: ${checked.error.issues[0]?.message}).`);
    return checked.data as CallRes<`gallery:${O}`>;
  };
  return {
    'gallery:triplets': ({ runId, count }) => view('triplets', runId, { count }),
    'gallery:samples': ({ runId, count, seed }) => view('samples', runId, { count, seed }),
    'gallery:worst': ({ runId, count }) => view('worst', runId, { count }),
    'gallery:latent': ({ runId, max }) => view('latent', runId, { max }),
    'gallery:manifold': ({ runId, grid }) => view('manifold', runId, { grid }),
    'gallery:interpolate': ({ runId, a, b, steps }) => view('interpolate', runId, { a, b, steps }),
  };
}
