// Host side of `gallery:*`: checks the run has a trained model, then asks the trainer process
// (which owns tfjs-node and caches the loaded model) for the view, and checks the answer against
// the call's response schema before it leaves the host.
import fs from 'node:fs';
import path from 'node:path';
import type { Handlers } from './dispatch';
import { CallError } from './dispatch';
import { calls, type CallRes, type RunSummary } from '../contract';
import type { TrainerSupervisor } from '../trainer/supervisor';

type Op = 'triplets' | 'samples' | 'samplers' | 'worst' | 'latent' | 'manifold' | 'interpolate';
type GalleryHandlers = Pick<
  Handlers,
  `gallery:${Op}` | 'gallery:try' | 'gallery:chooseSampler' | `inspect:${'images' | 'calibrate' | 'threshold' | 'try'}`
>;

export function galleryHandlers(
  trainer: TrainerSupervisor,
  workspaceDir: string,
  getRun: (id: string) => { run: RunSummary; dir: string } | undefined,
): GalleryHandlers {
  /** The run and its folder, if it has a trained model: a finished run, or one imported from a TensorFlow.js export or a cluster job. */
  const trained = (runId: string) => {
    const r = getRun(runId);
    if (!r) throw new CallError('not_found', `There is no run '${runId}' in this workspace.`);
    if (!fs.existsSync(path.join(r.dir, 'model', 'encoder', 'model.json'))) {
      throw new CallError(
        'conflict',
        `Run '${runId}' has no trained model yet (it is ${r.run.status}); the Gallery shows finished runs.`,
      );
    }
    return r;
  };
  /** Checks what the trainer answered against the call's response schema. */
  const checked = <N extends keyof GalleryHandlers>(name: N, answer: unknown): CallRes<N> => {
    const r = calls[name].res.safeParse(answer);
    if (!r.success)
      throw new CallError(
        'internal',
        `The trainer's answer to ${name} does not have the expected shape (${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}).`,
      );
    return r.data as CallRes<N>;
  };
  const view = async <O extends Op>(
    op: O,
    runId: string,
    params: Record<string, number>,
    timeoutMs = 60_000,
  ): Promise<CallRes<`gallery:${O}`>> => {
    const r = trained(runId);
    return checked(
      `gallery:${op}`,
      await trainer.request('gallery', { op, runDir: r.dir, workspaceDir, dataset: r.run.dataset, params }, timeoutMs),
    );
  };
  return {
    'gallery:triplets': ({ runId, count }) => view('triplets', runId, { count }),
    'gallery:samples': ({ runId, count, seed }) => view('samples', runId, { count, seed }),
    // fitting the second-stage VAE takes seconds; measuring may first train the dataset's classifier
    'gallery:samplers': ({ runId, count, seed, measure }) =>
      view('samplers', runId, { count, seed, measure: measure ? 1 : 0 }, measure ? 900_000 : 180_000),
    // fitting the second-stage VAE takes seconds (none when the samplers panel fitted it already)
    'gallery:chooseSampler': async ({ runId, sampler }) => {
      const r = trained(runId);
      if (r.run.status === 'running')
        throw new CallError('conflict', `Run '${runId}' is training; choose its sampler when it has finished.`);
      return checked(
        'gallery:chooseSampler',
        await trainer.request(
          'chooseSampler',
          { runId, runDir: r.dir, workspaceDir, dataset: r.run.dataset, sampler },
          180_000,
        ),
      );
    },
    'gallery:worst': ({ runId, count }) => view('worst', runId, { count }),
    'gallery:latent': ({ runId, max }) => view('latent', runId, { max }),
    'gallery:manifold': ({ runId, grid }) => view('manifold', runId, { grid }),
    'gallery:interpolate': ({ runId, a, b, steps }) => view('interpolate', runId, { a, b, steps }),
    'gallery:try': async ({ runId, files }) => {
      const r = trained(runId);
      return checked(
        'gallery:try',
        await trainer.request('galleryTry', { runDir: r.dir, workspaceDir, dataset: r.run.dataset, files }, 60_000),
      );
    },
    // The Inspect panel (contract/inspection.ts): the trainer scores, calibrates and writes model/inspection.json.
    'inspect:images': async ({ runId, count }) => {
      const r = trained(runId);
      return checked(
        'inspect:images',
        await trainer.request(
          'inspect',
          { op: 'images', runId, runDir: r.dir, workspaceDir, dataset: r.run.dataset, count },
          180_000,
        ),
      );
    },
    'inspect:calibrate': async ({ runId, count, settings, percentile }) => {
      const r = trained(runId);
      if (r.run.status === 'running')
        throw new CallError('conflict', `Run '${runId}' is training; calibrate it when it has finished.`);
      return checked(
        'inspect:calibrate',
        await trainer.request(
          'inspect',
          { op: 'calibrate', runId, runDir: r.dir, workspaceDir, dataset: r.run.dataset, count, settings, percentile },
          600_000,
        ),
      );
    },
    'inspect:threshold': async ({ runId, value }) => {
      const r = trained(runId);
      return checked(
        'inspect:threshold',
        await trainer.request(
          'inspect',
          { op: 'threshold', runId, runDir: r.dir, workspaceDir, dataset: r.run.dataset, value },
          30_000,
        ),
      );
    },
    'inspect:try': async ({ runId, files, tile }) => {
      const r = trained(runId);
      return checked(
        'inspect:try',
        await trainer.request(
          'inspect',
          { op: 'try', runId, runDir: r.dir, workspaceDir, dataset: r.run.dataset, files, tile },
          tile ? 300_000 : 60_000,
        ),
      );
    },
  };
}
