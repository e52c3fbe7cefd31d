// @vitest-environment happy-dom
// The Model view's "Train on random crops" (components/model/DatasetPicker.vue): offered for
// pictures of 32 px a side and more, never for MNIST's 28 px; it sets the config's cropSize and the
// model's input (the crop), the inspection preset picks 64 px crops for 256 px pictures, a crop
// bigger than the pictures gets the engine's plain-words message, and the draft keeps it.
import { describe, expect, it } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { useModelStore } from '../../../../../src-renderer/stores/model';
import { useDatasetsStore } from '../../../../../src-renderer/stores/datasets';
import DatasetPicker from '../../../../../src-renderer/components/model/DatasetPicker.vue';
import { freshPinia, icons, iconsHost } from '../../icons-host';
import type { DatasetManifest } from '@contract';

freshPinia();

const fabric: DatasetManifest = {
  ...icons,
  id: 'fabric-1',
  name: 'Fabric',
  shape: [256, 256, 1],
  count: 120,
  labelNames: [],
  labelCounts: [],
  options: { size: 256, mode: 'grayscale', fit: 'stretch', validationSplit: 0.1, seed: 42 },
};

describe('Model view: train on random crops', () => {
  it('is offered for big pictures and sets the crop as the model input', async () => {
    iconsHost({ 'datasets:list': () => ({ ok: true, result: [icons, fabric] }) });
    await useDatasetsStore().refresh();
    const m = useModelStore();
    const w = mount(DatasetPicker);
    await flushPromises();
    // MNIST's 28 px digits: no crops offered
    expect(w.find('[data-testid="field-crops"]').exists()).toBe(false);
    m.chooseDataset('fabric-1');
    await flushPromises();
    await w.find('[data-testid="field-crops"]').setValue(true);
    // 256 px pictures: the inspection preset's 64 px crop
    expect(m.config).toMatchObject({ cropSize: 64, inputShape: [64, 64, 1] });
    expect(m.valid).toBe(true);
    expect(m.describe).toMatch(/64-px crops/);
    expect(w.text()).toMatch(/the model takes 64×64 crops/);
    await w.find('[data-testid="field-cropSize"]').setValue('300');
    expect(w.find('[data-testid="error-cropSize"]').text()).toBe(
      "the crop (300×300) is bigger than the dataset's 256×256 pictures; choose at most 256 px",
    );
    expect(m.valid).toBe(false);
    await w.find('[data-testid="field-crops"]').setValue(false);
    expect(m.config).toMatchObject({ cropSize: 0, inputShape: [256, 256, 1] });
    expect(w.find('[data-testid="field-cropSize"]').exists()).toBe(false);
    // the inspection preset turns crops on for pictures of 256 px and more
    m.applyPreset('inspection');
    expect(m.config).toMatchObject({ cropSize: 64, inputShape: [64, 64, 1], kind: 'conv' });
    // 32 px icons: offered, a 16 px crop
    m.chooseDataset('icons-abc123');
    m.setCrops(false);
    await flushPromises();
    await w.find('[data-testid="field-crops"]').setValue(true);
    expect(m.config).toMatchObject({ cropSize: 16, inputShape: [16, 16, 3] });
  });
});
