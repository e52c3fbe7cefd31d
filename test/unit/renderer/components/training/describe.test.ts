// @vitest-environment happy-dom
// How a model is named (components/training/describe.ts, stores/model.ts presets): a conv VAE by what it is, an edited preset as custom.
import { describe, expect, it } from 'vitest';
import { useModelStore } from '../../../../../src-renderer/stores/model';
import { modelTitle } from '../../../../../src-renderer/components/training/describe';
import { freshPinia, iconsHost } from '../../icons-host';

freshPinia();

describe('model names', () => {
  it('names a conv VAE for what it is, and a form edited away from its preset "custom"', () => {
    iconsHost();
    const m = useModelStore();
    m.applyPreset('vae');
    expect(m.presetId).toBe('vae');
    m.setKind('conv-vae');
    expect(m.presetId).toBeUndefined();
    expect(modelTitle(m.config)).toBe('Convolutional VAE, 2-d code');
  });
});
