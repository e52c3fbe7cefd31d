// The Model view's network summary is computed without tfjs (src-main/contract/model-summary.ts);
// here every kind and several configs are built with the real engine and compared layer by
// layer: names, output shapes and parameter counts must be exactly tfjs's.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-node';
import { buildAutoencoder, parameterCount, validateConfig, type ModelConfigInput } from '../../../../src-main/engine';
import { summarizeModel } from '../../../../src-main/contract/model-summary';

const CLASS: Record<string, string> = { Input: 'InputLayer' };

function layersOf(m: tf.LayersModel) {
  return m.layers.map((l) => ({
    name: l.name,
    type: l.getClassName(),
    outputShape: (l.outputShape as number[]).slice(1),
    params: l.countParams(),
  }));
}

const CASES: Array<[string, Omit<ModelConfigInput, 'inputShape'> & { inputShape?: [number, number, number] }]> = [
  ['classic dense 784→128→784', { kind: 'dense', latentDim: 128 }],
  [
    'dense, hidden layers, leaky ReLU, linear out',
    { kind: 'dense', latentDim: 32, hidden: [300, 100], activation: 'leaky-relu', outputActivation: 'linear' },
  ],
  ['deep dense (defaults)', { kind: 'deep-dense', latentDim: 16 }],
  [
    'deep dense, 3 layers, tanh, RGB 32×32',
    { kind: 'deep-dense', latentDim: 24, hidden: [512, 256, 64], activation: 'tanh', inputShape: [32, 32, 3] },
  ],
  ['sparse', { kind: 'sparse', latentDim: 64, l1: 1e-4 }],
  ['sparse with a hidden layer, elu', { kind: 'sparse', latentDim: 200, hidden: [400], activation: 'elu' }],
  ['conv 16-d code', { kind: 'conv', latentDim: 16 }],
  [
    'conv RGB 32×32, leaky ReLU',
    { kind: 'conv', latentDim: 64, hidden: [16, 24], activation: 'leaky-relu', inputShape: [32, 32, 3] },
  ],
  [
    'conv 64×48 grayscale, linear out',
    { kind: 'conv', latentDim: 8, hidden: [8, 12], outputActivation: 'linear', inputShape: [64, 48, 1] },
  ],
  ['vae 2-d code', { kind: 'vae', latentDim: 2, loss: 'bce' }],
  ['vae, two hidden, leaky ReLU', { kind: 'vae', latentDim: 10, hidden: [256, 64], activation: 'leaky-relu' }],
  ['conv vae RGB', { kind: 'conv-vae', latentDim: 8, inputShape: [32, 32, 3] }],
  ['conv vae grayscale, sigmoid hidden', { kind: 'conv-vae', latentDim: 2, hidden: [4, 8], activation: 'sigmoid' }],
  [
    'conv, 3 stages on 64×64 RGB (reference model D)',
    { kind: 'conv', latentDim: 128, hidden: [32, 64, 128], inputShape: [64, 64, 3] },
  ],
  ['conv, 1 stage, 5×5 kernels', { kind: 'conv', latentDim: 16, hidden: [8], kernelSize: 5 }],
  [
    'conv, 6 stages on 128×128 RGB, 5×5, leaky ReLU',
    {
      kind: 'conv',
      latentDim: 32,
      hidden: [4, 6, 8, 8, 12, 16],
      kernelSize: 5,
      activation: 'leaky-relu',
      inputShape: [128, 128, 3],
    },
  ],
  [
    'conv vae, 4 stages on 64×64 RGB, 5×5',
    { kind: 'conv-vae', latentDim: 8, hidden: [8, 16, 16, 32], kernelSize: 5, inputShape: [64, 64, 3] },
  ],
];

describe('model summary (pure) against the real tfjs model', () => {
  it.each(CASES)('%s', (_, input) => {
    const r = validateConfig({ inputShape: [28, 28, 1], ...input });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const s = summarizeModel(r.config);
    const ae = buildAutoencoder(r.config);
    try {
      const strip = (ls: typeof s.encoder) =>
        ls.map((l) => ({ name: l.name, type: CLASS[l.type] ?? l.type, outputShape: l.outputShape, params: l.params }));
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

  it("reference model D (conv AE on 64×64 RGB, stages 32→64→128, code 128): the peers' layer shapes and parameter count", () => {
    const r = validateConfig({ kind: 'conv', inputShape: [64, 64, 3], latentDim: 128, hidden: [32, 64, 128] });
    if (!r.ok) throw new Error('invalid');
    const s = summarizeModel(r.config);
    expect(s.encoder.map((l) => l.outputShape)).toEqual([
      [64, 64, 3],
      [32, 32, 32],
      [16, 16, 64],
      [8, 8, 128],
      [8192],
      [128],
    ]);
    expect(s.decoder.map((l) => l.outputShape)).toEqual([
      [128],
      [8192],
      [8, 8, 128],
      [16, 16, 64],
      [32, 32, 32],
      [64, 64, 3],
    ]);
    // Conv 896 + 18,496 + 73,856; Dense 1,048,704; Dense 1,056,768; ConvT 73,792 + 18,464 + 867 (Keras's count for the same model)
    expect(s.totalParams).toBe(896 + 18_496 + 73_856 + 1_048_704 + 1_056_768 + 73_792 + 18_464 + 867);
  });
});

describe('conv stages and image sides', () => {
  const check = (input: Partial<ModelConfigInput>) =>
    validateConfig({ kind: 'conv', inputShape: [28, 28, 1], ...input });
  it('takes 1 to 6 stages and refuses 0 or 7 in plain words', () => {
    expect(check({ hidden: [8], inputShape: [28, 28, 1] }).ok).toBe(true);
    expect(check({ hidden: [8, 8, 8, 8, 8, 8], inputShape: [128, 128, 3] }).ok).toBe(true);
    for (const hidden of [[], [8, 8, 8, 8, 8, 8, 8]]) {
      const r = check({ hidden, inputShape: [128, 128, 3] });
      expect(r.ok).toBe(false);
      if (!r.ok)
        expect(r.errors[0]).toMatchObject({ field: 'hidden', message: expect.stringContaining('1 to 6 stages') });
    }
  });
  it('needs sides divisible by 2^stages and says how many stages would fit', () => {
    const r = check({ hidden: [32, 64, 128] }); // 28 is divisible by 4, not 8
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors).toEqual([
        {
          field: 'inputShape',
          message:
            '3 conv stages halve the image 3 times, so height and width must be divisible by 8; these images are 28×28 — use at most 2 stages for these images, or resize them',
        },
      ]);
    }
    expect(check({ hidden: [32, 64, 128], inputShape: [64, 64, 3] }).ok).toBe(true);
  });
  it('kernel size is 3 (default) or 5', () => {
    const r = check({ hidden: [8, 16] });
    expect(r.ok && r.config.kernelSize).toBe(3);
    const bad = check({ hidden: [8, 16], kernelSize: 4 as 3 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors[0]).toMatchObject({ field: 'kernelSize', message: 'must be one of 3, 5' });
  });
});
