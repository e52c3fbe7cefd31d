// The Model view's network summary is computed without tfjs (src-main/contract/model-summary.ts);
// here every kind and several configs are built with the real engine and compared layer by
// layer: names, output shapes and parameter counts must be exactly tfjs's.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-node';
import { buildAutoencoder, parameterCount, validateConfig, type ModelConfigInput } from '../../../../src-main/engine';
import { summarizeModel } from '../../../../src-main/contract/model-summary';

const CLASS: Record<string, string> = { Input: 'InputLayer' };

function layersOf(m: tf.LayersModel) {
  return m.layers.map((l) => ({ name: l.name, type: l.getClassName(), outputShape: (l.outputShape as number[]).slice(1), params: l.countParams() }));
}

const CASES: Array<[string, Omit<ModelConfigInput, 'inputShape'> & { inputShape?: [number, number, number] }]> = [
  ['classic dense 784→128→784', { kind: 'dense', latentDim: 128 }],
  ['dense, hidden layers, leaky ReLU, linear out', { kind: 'dense', latentDim: 32, hidden: [300, 100], activation: 'leaky-relu', outputActivation: 'linear' }],
  ['deep dense (defaults)', { kind: 'deep-dense', latentDim: 16 }],
  ['deep dense, 3 layers, tanh, RGB 32×32', { kind: 'deep-dense', latentDim: 24, hidden: [512, 256, 64], activation: 'tanh', inputShape: [32, 32, 3] }],
  ['sparse', { kind: 'sparse', latentDim: 64, l1: 1e-4 }],
  ['sparse with a hidden layer, elu', { kind: 'sparse', latentDim: 200, hidden: [400], activation: 'elu' }],
  ['conv 16-d code', { kind: 'conv', latentDim: 16 }],
  ['conv RGB 32×32, leaky ReLU', { kind: 'conv', latentDim: 64, hidden: [16, 24], activation: 'leaky-relu', inputShape: [32, 32, 3] }],
  ['conv 64×48 grayscale, linear out', { kind: 'conv', latentDim: 8, hidden: [8, 12], outputActivation: 'linear', inputShape: [64, 48, 1] }],
  ['vae 2-d code', { kind: 'vae', latentDim: 2, loss: 'bce' }],
  ['vae, two hidden, leaky ReLU', { kind: 'vae', latentDim: 10, hidden: [256, 64], activation: 'leaky-relu' }],
  ['conv vae RGB', { kind: 'conv-vae', latentDim: 8, inputShape: [32, 32, 3] }],
  ['conv vae grayscale, sigmoid hidden', { kind: 'conv-vae', latentDim: 2, hidden: [4, 8], activation: 'sigmoid' }],
];

describe('model summary (pure) against the real tfjs model', () => {
  it.each(CASES)('%s', (_, input) => {
    const r = validateConfig({ inputShape: [28, 28, 1], ...input });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const s = summarizeModel(r.config);
    const ae = buildAutoencoder(r.config);
    try {
      const strip = (ls: typeof s.encoder) => ls.map((l) => ({ name: l.name, type: CLASS[l.type] ?? l.type, outputShape: l.outputShape, params: l.params }));
      expect(strip(s.encoder)).toEqual(layersOf(ae.encoder));
      expect(strip(s.decoder)).toEqual(layersOf(ae.decoder));
      expect(s.encoderParams).toBe(ae.encoder.countParams());
      expect(s.decoderParams).toBe(ae.decoder.countParams());
      expect(s.totalParams).toBe(parameterCount(ae));
    } finally {
      ae.encoder.dispose();
      ae.decoder.dispose();
    }
  });

  it('the classic dense AE: 784 → 128 → 784, 201,616 parameters', () => {
    const r = validateConfig({ kind: 'dense', inputShape: [28, 28, 1], latentDim: 128 });
    if (!r.ok) throw new Error('invalid');
    const s = summarizeModel(r.config);
    expect(s.encoder.map((l) => l.outputShape)).toEqual([[28, 28, 1], [784], [128]]);
    expect(s.totalParams).toBe(201_616);
  });
});
