// The sub-pixel form of a transposed conv (src-main/engine/fast/subpixel.ts): padded input, the
// re-arranged kernel as a stride-1 'VALID' conv with the phased bias, then DepthToSpace — run with
// TensorFlow's own kernels — gives TensorFlow's Conv2DBackpropInput + bias for kernels 1–5, strides
// 2 and 3, square and non-square pictures, one to many channels; it declines what it cannot do
// ('VALID', unequal strides, an output that is not stride × the input); and the inference graph
// with it equals the graph without it (AE_INFER_SUBPIXEL=0) on a real model with a 1-channel and a
// 3-channel output, with no tensor left.
import { afterEach, describe, expect, it } from 'vitest';
import { buildAutoencoder, validateConfig, type ModelConfigInput } from '../../../../../src-main/engine';
import { tf } from '../../../../../src-main/engine/tf';
import * as n from '../../../../../src-main/engine/fast/native';
import { subpixelPlan } from '../../../../../src-main/engine/fast/subpixel';
import { InferenceGraph } from '../../../../../src-main/engine/fast/infer';
import { mulberry32 } from '../../../../../src-main/engine/rng';

afterEach(() => {
  delete process.env.AE_INFER_SUBPIXEL;
});

const A = n.attrs;
const convAttrs = (s: number, padding: string) => [
  A.int('strides', [1, s, s, 1]),
  A.str('padding', padding),
  A.str('data_format', 'NHWC'),
  A.int('dilations', [1, 1, 1, 1]),
];
const random = (count: number, seed: number) => {
  const r = mulberry32(seed);
  return Float32Array.from({ length: count }, () => r() * 2 - 1);
};

describe('subpixelPlan', () => {
  const cases: Array<{ k: number; s: number; h: number; w: number; cin: number; cout: number }> = [
    { k: 3, s: 2, h: 7, w: 7, cin: 8, cout: 1 },
    { k: 3, s: 2, h: 4, w: 6, cin: 5, cout: 3 },
    { k: 5, s: 2, h: 5, w: 5, cin: 4, cout: 2 },
    { k: 4, s: 2, h: 3, w: 5, cin: 3, cout: 3 },
    { k: 1, s: 2, h: 4, w: 4, cin: 6, cout: 2 },
    { k: 2, s: 2, h: 3, w: 3, cin: 2, cout: 4 },
    { k: 3, s: 3, h: 4, w: 3, cin: 3, cout: 2 },
    { k: 5, s: 3, h: 3, w: 4, cin: 2, cout: 1 },
  ];
  for (const { k, s, h, w, cin, cout } of cases) {
    it(`equals Conv2DBackpropInput + bias: ${k}×${k} kernel, stride ${s}, ${h}×${w}×${cin} → ×${cout}`, () => {
      const N = 3;
      const filter = random(k * k * cout * cin, k * 100 + s);
      const bias = random(cout, 7);
      const input = random(N * h * w * cin, 11);
      const plan = subpixelPlan(filter, [k, k, cout, cin], bias, [s, s], 'SAME', [h, w], [s * h, s * w])!;
      expect(plan).toBeDefined();
      const before = tf.memory().numTensors;
      const [want, got] = tf.tidy(() => {
        const x = tf.tensor4d(input, [N, h, w, cin]);
        const ref = n.biasAdd(
          n.op(
            'Conv2DBackpropInput',
            [tf.tensor1d([N, s * h, s * w, cout], 'int32'), tf.tensor4d(filter, [k, k, cout, cin]), x],
            convAttrs(s, 'SAME'),
          ),
          tf.tensor1d(bias),
        );
        const [[t, b], [l, r]] = plan.pad;
        const padded = n.op(
          'Pad',
          [x, tf.tensor2d([0, 0, t, b, l, r, 0, 0], [4, 2], 'int32')],
          [A.type('Tpaddings', true)],
        );
        const z = n.biasAdd(
          n.op('Conv2D', [padded, tf.tensor4d(plan.kernel, plan.kernelShape)], convAttrs(1, 'VALID')),
          tf.tensor1d(plan.bias),
        );
        const y = n.op('DepthToSpace', [z], [A.int('block_size', plan.block), A.str('data_format', 'NHWC')]);
        expect(y.shape).toEqual(ref.shape);
        return [ref.dataSync(), y.dataSync()];
      });
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - got[i]));
      expect(worst).toBeLessThan(1e-5);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('declines what it cannot write as one stride-1 conv', () => {
    const f = random(3 * 3 * 2 * 2, 1);
    const b = random(2, 2);
    expect(subpixelPlan(f, [3, 3, 2, 2], b, [2, 2], 'VALID', [4, 4], [9, 9])).toBeUndefined();
    expect(subpixelPlan(f, [3, 3, 2, 2], b, [2, 1], 'SAME', [4, 4], [8, 4])).toBeUndefined();
    expect(subpixelPlan(f, [3, 3, 2, 2], b, [1, 1], 'SAME', [4, 4], [4, 4])).toBeUndefined();
    expect(subpixelPlan(f, [3, 3, 2, 2], b, [2, 2], 'SAME', [4, 4], [7, 7])).toBeUndefined();
  });
});

describe.runIf(n.onednn())('the inference graph with it', () => {
  const models: Record<string, ModelConfigInput> = {
    'grey, 3×3': { kind: 'conv', inputShape: [28, 28, 1], latentDim: 8, hidden: [8, 16] },
    'RGB, 5×5, VAE': { kind: 'conv-vae', inputShape: [16, 24, 3], latentDim: 6, hidden: [8, 16], kernelSize: 5 },
  };
  for (const [name, config] of Object.entries(models)) {
    it(`reconstructs as TensorFlow's transposed conv does: ${name}`, () => {
      const r = validateConfig({ ...config, seed: 3 }, { count: 1000, shape: config.inputShape });
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      const ae = buildAutoencoder(r.config);
      const px = r.config.inputShape.reduce((a, b) => a * b, 1);
      const images = Uint8Array.from({ length: 37 * px }, (_, i) => (i * 2654435761) >>> 24);
      const before = tf.memory().numTensors;
      process.env.AE_INFER_SUBPIXEL = '0';
      const plain = InferenceGraph.create(ae, r.config)!;
      delete process.env.AE_INFER_SUBPIXEL;
      const sub = InferenceGraph.create(ae, r.config)!;
      const want = plain.run(images, { recon: true, mse: true });
      const got = sub.run(images, { recon: true, mse: true });
      // The sub-pixel form is really in the one graph and not in the other.
      const ops = (g: InferenceGraph) =>
        [...(g as unknown as { subgraphs: Map<string, Array<{ op: string }>> }).subgraphs.values()]
          .flat()
          .map((node) => node.op);
      expect(ops(sub)).toContain('DepthToSpace');
      expect(ops(plain)).not.toContain('DepthToSpace');
      expect(ops(plain)).toContain('Conv2DBackpropInput');
      let worst = 0;
      for (let i = 0; i < want.recon!.length; i++) worst = Math.max(worst, Math.abs(want.recon![i] - got.recon![i]));
      expect(worst).toBeLessThan(1e-5);
      for (let i = 0; i < 37; i++) expect(Math.abs(want.mse![i] - got.mse![i])).toBeLessThan(1e-6);
      plain.dispose();
      sub.dispose();
      expect(tf.memory().numTensors).toBe(before);
      ae.encoder.dispose();
      ae.decoder.dispose();
    });
  }
});
