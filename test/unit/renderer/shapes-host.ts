// The renderer tests' fake host with one stored dataset (Shapes, 32×30 grayscale) and a noise
// preview that answers with flat images: used by the model store's and the Model, Noise and Train
// views' tests.
import { createClient } from '../../../src-renderer/api/client';
import { setApi } from '../../../src-renderer/api/instance';
import { FakeTransport } from './fake-host';
import type { DatasetManifest } from '@contract';

export const px = (v: number) => btoa(String.fromCharCode(...new Array<number>(784).fill(v)));
export const shapes: DatasetManifest = {
  schemaVersion: 1,
  id: 'shapes-abc123',
  name: 'Shapes',
  source: { kind: 'builtin', builtin: 'shapes' },
  shape: [32, 30, 1],
  count: 900,
  labelNames: ['circle'],
  labelCounts: [900],
  createdAt: 1,
  options: { validationSplit: 0.2, seed: 7 },
};

export function shapesHost(extra: ConstructorParameters<typeof FakeTransport>[0] = {}) {
  const t = new FakeTransport({
    'datasets:list': () => ({ ok: true, result: [shapes] }),
    'datasets:preview': () => ({ ok: true, result: { manifest: shapes, images: [], mean: px(0) } }),
    'runs:list': () => ({ ok: true, result: [] }),
    'runs:start': () => ({ ok: true, result: { runId: 'run-1' } }),
    'noise:preview': (p) => {
      const { count, noise } = p as { count: number; noise: { level: number } };
      return {
        ok: true,
        result: {
          shape: [28, 28, 1],
          clean: new Array(count).fill(px(10)),
          noisy: new Array(count).fill(px(Math.round(noise.level * 255))),
        },
      };
    },
    ...extra,
  });
  setApi(createClient(t));
  return t;
}
