// The dataset store and the built-in datasets: real files in a temp workspace.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeBuiltin } from '../../../../src-main/datasets/builtins';
import {
  appendToDataset,
  deleteDataset,
  generatedMask,
  listDatasets,
  loadDataset,
  makeId,
  previewDataset,
  removeImages,
  renameDataset,
  sanitizeName,
  writeDataset,
} from '../../../../src-main/datasets/store';
import { DatasetManifest as ManifestSchema } from '../../../../src-main/contract/datasets';
import { run } from '../../../../src-main/cli/main';

const ws = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ae-ds-'));

describe('built-in datasets', () => {
  it('MNIST: 10,000 real digits with labels 0–9', () => {
    const d = makeBuiltin('mnist');
    expect(d.count).toBe(10_000);
    expect(d.images.length).toBe(10_000 * 784);
    expect(new Set(d.labels).size).toBe(10);
    expect(Math.max(...d.images.subarray(0, 784))).toBe(255);
  });

  it('Fashion-MNIST: 1,000 images per class, 10 named classes, not blank', () => {
    const d = makeBuiltin('fashion-mnist');
    expect(d.count).toBe(10_000);
    expect(d.labelNames[9]).toBe('Ankle boot');
    const counts = d.labelNames.map((_, c) => d.labels.filter((l) => l === c).length);
    expect(counts).toEqual(Array(10).fill(1000));
    const mean = d.images.subarray(0, 784 * 100).reduce((a, b) => a + b, 0) / (784 * 100);
    expect(mean).toBeGreaterThan(20);
  });

  it('Shapes: circles, squares, triangles of varied size and place, repeatable by seed', () => {
    const a = makeBuiltin('shapes', { perClass: 50, seed: 3 });
    const b = makeBuiltin('shapes', { perClass: 50, seed: 3 });
    expect(a.count).toBe(150);
    expect(Buffer.from(a.images).equals(Buffer.from(b.images))).toBe(true);
    // each image has some ink, and images differ
    const ink = (i: number) => a.images.subarray(i * 784, (i + 1) * 784).reduce((s, v) => s + v, 0) / 255;
    for (let i = 0; i < 150; i++) expect(ink(i)).toBeGreaterThan(20);
    expect(new Set(Array.from({ length: 150 }, (_, i) => Math.round(ink(i)))).size).toBeGreaterThan(50);
    // a circle's area ≈ π r², a square's (1.6 r)², so the same-size classes differ in ink on average
    expect(new Set(a.labels).size).toBe(3);
  });
});

describe('dataset store', () => {
  it('writes atomically, lists, loads into typed arrays, previews, renames and deletes', async () => {
    const w = ws();
    const d = makeBuiltin('shapes', { perClass: 20 });
    const m = await writeDataset(w, 'Формы ✓ shapes', d, { kind: 'builtin', builtin: 'shapes' });
    expect(m.name).toBe('Формы ✓ shapes');
    expect(m.id).toMatch(/^shapes-[0-9a-f]{6}$/);
    expect(m.labelCounts).toEqual([20, 20, 20]);
    expect(fs.readdirSync(path.join(w, 'datasets'))).toEqual([m.id]); // no temp folders left
    const loaded = loadDataset(w, m.id);
    expect(Buffer.from(loaded.images).equals(Buffer.from(d.images))).toBe(true);
    expect(Array.from(loaded.labels ?? [])).toEqual(Array.from(d.labels));
    const p = previewDataset(w, m.id, 4);
    expect(p.images.length).toBe(4);
    expect(p.mean.length).toBe(784);
    expect(renameDataset(w, m.id, '  new\u0000name  ').name).toBe('new name');
    expect(listDatasets(w)).toMatchObject([{ id: m.id, name: 'new name', count: 60 }]);
    deleteDataset(w, m.id);
    expect(listDatasets(w)).toEqual([]);
  });

  it('flags a damaged dataset and keeps listing the others', async () => {
    const w = ws();
    const good = await writeDataset(w, 'good', makeBuiltin('shapes', { perClass: 5 }), {
      kind: 'builtin',
      builtin: 'shapes',
    });
    const bad = await writeDataset(w, 'bad', makeBuiltin('shapes', { perClass: 5 }), {
      kind: 'builtin',
      builtin: 'shapes',
    });
    fs.truncateSync(path.join(w, 'datasets', bad.id, 'images.u8'), 100); // a truncated file
    const list = listDatasets(w);
    expect(list.find((e) => e.id === good.id)).toMatchObject({ name: 'good' });
    expect(list.find((e) => e.id === bad.id)).toMatchObject({
      error: expect.stringMatching(/images.u8 has 100 bytes/),
    });
    expect(() => loadDataset(w, bad.id)).toThrow(/100 bytes/);
  });

  it('parses manifest.json with its schema: a damaged field is flagged in plain words, the folder left as it was', async () => {
    const w = ws();
    const m = await writeDataset(w, 'kept', makeBuiltin('shapes', { perClass: 5 }), {
      kind: 'builtin',
      builtin: 'shapes',
    });
    const file = path.join(w, 'datasets', m.id, 'manifest.json');
    const broken = JSON.stringify({ ...m, count: 'fifteen' });
    fs.writeFileSync(file, broken);
    expect(listDatasets(w)).toEqual([
      {
        id: m.id,
        error: 'This dataset cannot be read: the manifest does not describe a dataset (count: must be a number)',
      },
    ]);
    expect(() => loadDataset(w, m.id)).toThrow(/count: must be a number/);
    fs.writeFileSync(file, JSON.stringify({ ...m, labelNames: 'abc' }));
    expect(listDatasets(w)[0]).toMatchObject({ error: expect.stringMatching(/labelNames: must be a list/) });
    expect(fs.readdirSync(path.join(w, 'datasets', m.id)).sort()).toEqual([
      'images.u8',
      'labels.i32',
      'manifest.json',
      'mean.u8',
    ]);
  });

  it('refuses ids that would leave the workspace, and empty names', () => {
    const w = ws();
    for (const id of ['../x', '..', 'a/b', '/etc', '.hidden', ''])
      expect(() => loadDataset(w, id)).toThrow(/not a dataset id/);
    expect(() => sanitizeName('   ')).toThrow(/empty/);
    expect(makeId('Числа')).toMatch(/^dataset-[0-9a-f]{6}$/);
  });

  it('the CLI adds a built-in and lists datasets as JSON', async () => {
    const w = ws();
    const out: string[] = [];
    expect(await run(['builtin', 'shapes', '--workspace', w, '--json'], (s) => out.push(s))).toBe(0);
    const m = JSON.parse(out[0]);
    expect(m).toMatchObject({ name: 'Shapes', count: 9000, labelNames: ['circle', 'square', 'triangle'] });
    out.length = 0;
    expect(await run(['datasets', '--workspace', w, '--json'], (s) => out.push(s))).toBe(0);
    expect(JSON.parse(out[0])).toMatchObject([{ id: m.id }]);
    await expect(run(['builtin', 'cifar', '--workspace', w], () => undefined)).rejects.toThrow(/Unknown built-in/);
    await expect(run(['datasets'], () => undefined)).rejects.toThrow(/--workspace/);
  });
});

describe('generated rows', () => {
  it('are marked in the manifest when written or appended, and the marks follow their rows when images are removed', async () => {
    const dir = ws();
    const img = (n: number, v: number) => ({
      images: new Uint8Array(n * 4).fill(v),
      labels: new Int32Array(n),
      labelNames: ['a'],
      shape: [2, 2, 1] as [number, number, number],
      count: n,
    });
    const mark = { run: 'r1', sampler: 'gmm', label: 'a', seed: 3, createdAt: 1 };
    const m = await writeDataset(dir, 'gen', img(3, 10), { kind: 'generated', run: 'r1' }, { generated: mark });
    expect(m.generated).toEqual([{ from: 0, count: 3, ...mark }]);
    const real = await writeDataset(dir, 'real', img(4, 1), { kind: 'builtin', builtin: 'shapes' });
    const added = await appendToDataset(dir, real.id, img(3, 200), undefined, { ...mark, sampler: 'full' });
    expect(added.generated).toEqual([{ from: 4, count: 3, ...mark, sampler: 'full' }]);
    expect(Array.from(generatedMask(added))).toEqual([0, 0, 0, 0, 1, 1, 1]);
    // remove a real row and a generated one: the mark still covers exactly the generated rows that stay
    const after = await removeImages(dir, real.id, [1, 5]);
    const mask = generatedMask(after);
    const { images } = loadDataset(dir, real.id);
    expect(Array.from(mask)).toEqual([0, 0, 0, 1, 1]);
    for (let i = 0; i < after.count; i++) expect(images[i * 4]).toBe(mask[i] ? 200 : 1);
    expect(ManifestSchema.safeParse(after).success).toBe(true);
    expect(ManifestSchema.safeParse(listDatasets(dir).find((d) => d.id === m.id)).success).toBe(true);
  });
});
