// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createClient } from '../../../../src-renderer/api/client';
import { setApi } from '../../../../src-renderer/api/instance';
import DatasetsView from '../../../../src-renderer/views/DatasetsView.vue';
import { useDatasetsStore } from '../../../../src-renderer/stores/datasets';
import { FakeTransport } from '../fake-host';
import type { DatasetEntry, DatasetManifest } from '@contract';

const manifest: DatasetManifest = {
  schemaVersion: 1,
  id: 'shapes-abc123',
  name: 'Shapes',
  source: { kind: 'builtin', builtin: 'shapes' },
  shape: [28, 28, 1],
  count: 9000,
  labelNames: ['circle', 'square', 'triangle'],
  labelCounts: [3000, 3000, 3000],
  createdAt: 1,
};
const px = btoa(String.fromCharCode(...new Array<number>(784).fill(200)));

describe('Datasets view', () => {
  let pinia: ReturnType<typeof createPinia>;
  beforeEach(() => {
    localStorage.clear();
    pinia = createPinia();
    setActivePinia(pinia);
  });

  it('says before Import when none of the files could be read, and asks for a preview of every label', async () => {
    const t = new FakeTransport({
      'datasets:list': () => ({ ok: true, result: [] }),
      'datasets:previewImport': () => ({
        ok: true,
        result: { images: [], labels: [], shape: [28, 28, 1], skipped: 3 },
      }),
    });
    setApi(createClient(t));
    const w = mount(DatasetsView, { global: { plugins: [pinia] } });
    await flushPromises();
    const f = new File(['not a picture'], 'a.png');
    await useDatasetsStore().stageFiles([{ file: f, relPath: 'junk/a.png' }], () => '/home/me/junk/a.png');
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'datasets:previewImport')?.payload).toMatchObject({ count: 24 });
    expect(w.find('[data-testid="import-unreadable"]').text()).toMatch(
      /^None of these files could be read as a picture \(3 skipped\)/,
    );
    expect(w.find('[data-testid="import-start"]').attributes('disabled')).toBeDefined();
    expect(w.find('[data-testid="import-preview"]').exists()).toBe(false);
  });

  it('brings the import options (size, colour, fit, background) back after a reload, not the name', async () => {
    setApi(createClient(new FakeTransport({ 'datasets:list': () => ({ ok: true, result: [] }) })));
    const w = mount(DatasetsView, { global: { plugins: [pinia] } });
    await flushPromises();
    await w.find('[data-testid="import-size"]').setValue('64');
    await w.find('[data-testid="import-background"]').setValue('white');
    const selects = w.findAll('select');
    await selects[1].setValue('rgb');
    await selects[2].setValue('pad');
    await w.find('[data-testid="import-name"]').setValue('icons');
    await flushPromises();
    w.unmount();
    // a reload: new stores, the same browser storage
    pinia = createPinia();
    setActivePinia(pinia);
    const again = mount(DatasetsView, { global: { plugins: [pinia] } });
    await flushPromises();
    expect((again.find('[data-testid="import-size"]').element as HTMLSelectElement).value).toBe('64');
    expect((again.find('[data-testid="import-background"]').element as HTMLSelectElement).value).toBe('white');
    expect((again.findAll('select')[1].element as HTMLSelectElement).value).toBe('rgb');
    expect((again.findAll('select')[2].element as HTMLSelectElement).value).toBe('pad');
    expect((again.find('[data-testid="import-name"]').element as HTMLInputElement).value).toBe('');
  });

  it('offers big sizes (256 and 512 px) for pictures that will be trained on random crops', async () => {
    setApi(createClient(new FakeTransport({ 'datasets:list': () => ({ ok: true, result: [] }) })));
    const w = mount(DatasetsView, { global: { plugins: [pinia] } });
    await flushPromises();
    const sizes = w.findAll('[data-testid="import-size"] option').map((o) => Number(o.attributes('value')));
    expect(sizes).toEqual([28, 32, 64, 128, 256, 512]);
    await w.find('[data-testid="import-size"]').setValue('512');
    expect(useDatasetsStore().importOptions.size).toBe(512);
  });

  it('adds a built-in with one click and lists it with counts, preview and mean image; flags damaged ones', async () => {
    let list: DatasetEntry[] = [{ id: 'broken-1', error: 'This dataset cannot be read: images.u8 has 100 bytes' }];
    const t = new FakeTransport({
      'datasets:list': () => ({ ok: true, result: list }),
      'datasets:addBuiltin': () => {
        list = [manifest, ...list];
        return { ok: true, result: manifest };
      },
      'datasets:preview': () => ({ ok: true, result: { manifest, images: [px, px], mean: px } }),
      'datasets:delete': () => {
        list = list.filter((e) => (e as { id: string }).id !== manifest.id);
        return { ok: true, result: { deleted: true } };
      },
    });
    setApi(createClient(t));
    const w = mount(DatasetsView, { global: { plugins: [pinia] } });
    await flushPromises();
    expect(w.find('[data-testid="dataset-damaged"]').text()).toMatch(/broken-1: .*100 bytes/);
    await w.find('[data-testid="builtin-shapes"]').trigger('click');
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'datasets:addBuiltin')?.payload).toEqual({ name: 'shapes' });
    const card = w.find('[data-testid="dataset-shapes-abc123"]');
    expect(card.text()).toMatch(/9,000 images · 28×28×1/);
    expect(card.text()).toMatch(/circle\s*3000/);
    expect(card.findAll('[data-testid="dataset-preview"] canvas').length).toBe(2);
    await card.find('[data-testid="dataset-delete"]').trigger('click');
    await card.find('[data-testid="dataset-delete-confirm"]').trigger('click');
    await flushPromises();
    expect(w.find('[data-testid="dataset-shapes-abc123"]').exists()).toBe(false);
  });
});
