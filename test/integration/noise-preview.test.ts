// `noise:preview` through the host and the REAL trainer process: the first images of built-in
// MNIST or a stored dataset, clean and corrupted by the engine's noise; repeatable by seed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../src-main/host';
import { createTestSupervisor } from '../helpers/trainer';
import { makeBuiltin } from '../../src-main/datasets/builtins';
import { writeDataset } from '../../src-main/datasets/store';

let host: Host;
let workspace: string;
beforeAll(() => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-noise-'));
  host = createHost({ mode: 'serve', version: 'test', trainer: createTestSupervisor(), workspaceDir: workspace });
});
afterAll(async () => {
  await host.dispose();
  fs.rmSync(workspace, { recursive: true, force: true });
});

type Preview = { shape: [number, number, number]; clean: string[]; noisy: string[] };
async function preview(payload: unknown): Promise<Preview> {
  const r = await host.dispatch('noise:preview', payload);
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.result as Preview;
}
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));
const meanAbsDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

describe('noise:preview', () => {
  it('corrupts the first MNIST digits with Gaussian noise, repeatably by seed', async () => {
    const p = await preview({
      dataset: { builtin: 'mnist' },
      noise: { type: 'gaussian', level: 0.5 },
      count: 12,
      seed: 3,
    });
    expect(p.shape).toEqual([28, 28, 1]);
    expect(p.clean).toHaveLength(12);
    expect(p.noisy).toHaveLength(12);
    const [c, n] = [bytes(p.clean[0]), bytes(p.noisy[0])];
    expect(c.length).toBe(784);
    expect(n.length).toBe(784);
    expect(meanAbsDiff(c, n)).toBeGreaterThan(40); // σ = 0.5 of the 0..255 range, clipped
    expect(
      (await preview({ dataset: { builtin: 'mnist' }, noise: { type: 'gaussian', level: 0.5 }, count: 12, seed: 3 }))
        .noisy,
    ).toEqual(p.noisy);
    expect(
      (await preview({ dataset: { builtin: 'mnist' }, noise: { type: 'gaussian', level: 0.5 }, count: 12, seed: 4 }))
        .noisy[0],
    ).not.toEqual(p.noisy[0]);
    const none = await preview({ dataset: { builtin: 'mnist' }, noise: { type: 'none', level: 0 }, count: 4 });
    expect(none.noisy).toEqual(none.clean);
  });

  it('previews masking on a stored dataset (only its first images are read)', async () => {
    const m = await writeDataset(workspace, 'Shapes', makeBuiltin('shapes', { perClass: 20 }), {
      kind: 'builtin',
      builtin: 'shapes',
    });
    const p = await preview({ dataset: { id: m.id }, noise: { type: 'masking', level: 0.5 }, count: 6 });
    expect(p.clean).toHaveLength(6);
    const [c, n] = [bytes(p.clean[1]), bytes(p.noisy[1])];
    const lit = [...c.keys()].filter((i) => c[i] > 0);
    const zeroed = lit.filter((i) => n[i] === 0).length / lit.length;
    expect(zeroed).toBeGreaterThan(0.35);
    expect(zeroed).toBeLessThan(0.65);
    expect([...n.keys()].every((i) => n[i] === 0 || n[i] === c[i])).toBe(true); // masking only zeroes pixels
  });

  it('says in plain words when the dataset is gone, and refuses bad levels', async () => {
    const r = await host.dispatch('noise:preview', {
      dataset: { id: 'no-such-set' },
      noise: { type: 'gaussian', level: 0.2 },
    });
    expect(r).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(r.ok ? '' : r.error.message).toMatch(/no dataset 'no-such-set'/);
    const bad = await host.dispatch('noise:preview', {
      dataset: { builtin: 'mnist' },
      noise: { type: 'gaussian', level: 5 },
    });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
  });
});
