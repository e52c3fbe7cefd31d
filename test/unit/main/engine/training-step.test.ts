// Which training step a run uses is chosen once, reported as a 'step' event and never changes in
// silence: every supported config must run as one TensorFlow graph. A tfjs-node upgrade (or a new
// layer) that makes a config fall back to the slower kernel-by-kernel or tfjs step fails here.
import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-node';
import { trainRun, type RunEvent } from '../../../../src-main/engine';
import { mnist, tmpRunDir } from './helpers';

const data = mnist(300);
type StepEvent = Extract<RunEvent, { type: 'step' }>;

const CONFIGS = {
  dense: { kind: 'dense' },
  'deep-dense': { kind: 'deep-dense', hidden: [64, 32] },
  conv: { kind: 'conv', hidden: [8, 16] },
  'conv + leaky-relu + salt-pepper': {
    kind: 'conv',
    hidden: [8, 16],
    activation: 'leaky-relu',
    noise: { type: 'salt-pepper', level: 0.1 },
  },
  vae: { kind: 'vae', hidden: [64], loss: 'bce' },
  'conv-vae': { kind: 'conv-vae', hidden: [8, 16], latentDim: 4 },
  'sparse + masking': { kind: 'sparse', noise: { type: 'masking', level: 0.2 } },
  'dense + sgd + gaussian': { kind: 'dense', optimizer: 'sgd', noise: { type: 'gaussian', level: 0.3 } },
  'dense + rmsprop + tanh': { kind: 'deep-dense', hidden: [32], optimizer: 'rmsprop', activation: 'tanh' },
} as const;

async function steps(config: object, name: string): Promise<StepEvent[]> {
  const got: StepEvent[] = [];
  const r = await trainRun({
    config: {
      inputShape: [28, 28, 1],
      latentDim: 8,
      batchSize: 64,
      epochs: 1,
      validationSplit: 0.1,
      seed: 3,
      ...config,
    },
    dataset: data,
    runDir: tmpRunDir(`step-${name.replace(/\W+/g, '-')}`),
    onEvent: (e) => {
      if (e.type === 'step') got.push(e);
    },
  });
  expect(r.status, r.message).toBe('completed');
  return got;
}

describe('the training step of a run', () => {
  afterEach(() => {
    delete process.env.AE_GRAPH_STEP;
    delete process.env.AE_FAST_STEP;
  });

  for (const [name, config] of Object.entries(CONFIGS)) {
    it(`${name}: one TensorFlow graph, reported once`, async () => {
      const before = tf.memory().numTensors;
      expect(await steps(config, name)).toEqual([{ type: 'step', step: 'graph', reason: null, fallback: false }]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('says why when a slower step was asked for, and that it was asked for', async () => {
    process.env.AE_GRAPH_STEP = '0';
    expect(await steps(CONFIGS.conv, 'kernels')).toEqual([
      { type: 'step', step: 'kernels', reason: expect.stringMatching(/AE_GRAPH_STEP=0/), fallback: false },
    ]);
    process.env.AE_FAST_STEP = '0';
    expect(await steps(CONFIGS.conv, 'tfjs')).toEqual([
      { type: 'step', step: 'tfjs', reason: expect.stringMatching(/AE_FAST_STEP=0/), fallback: false },
    ]);
  });
});
