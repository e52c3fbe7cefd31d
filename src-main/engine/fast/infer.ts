// The inference graph: everything a trained model does forward-only — reconstruct, encode (a VAE's
// μ as the code), decode, per-image MSE and SSIM and their per-pixel maps — as ONE TensorFlow graph run by a session, the
// training step's approach (graph.ts) without the backward pass and the optimizer.
//
// How: the training step's own forward pass (step.ts `forwardChain`, over the layer chain step.ts
// reads from the model) runs once per batch size with an executor (native.ts `withExecutor`) that
// runs nothing and records each kernel as a node of a GraphDef; every tensor it reads that no
// recorded kernel made — the weights, shape and slice constants — becomes a Const node holding its
// value (the model's weights are copied into the graph when it is recorded: a TrainedModel's weights
// never change). uint8 pixels go in as they are stored (one byte a pixel, no float copy in
// JavaScript) and are scaled inside the graph (Cast, then ÷ 255: the same float32 as x / 255).
// Each batch is split into one part per core (threads.ts `batchParts`, step.ts `partSizes`, as the
// training step splits its batches): the parts share no kernel until their outputs are
// concatenated, so TensorFlow runs them side by side, one per core. The models mix nothing across
// images, so every output is the one the whole batch gives.
//
// Batch sizes: a call is cut into chunks of `chunk` images (256, fewer for big pictures: about 16 MB
// of float pixels); a shorter last chunk runs on the sub-graph of the next power of two (padded with
// zeros, the padding's outputs dropped), so only a handful of sub-graphs exist per model. A new batch
// size records its sub-graph and reloads the session with all of them (the weights are shared).
// Only the outputs asked for are computed: the session runs the part of the graph they need.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../tf';
import { isVae, type ModelConfig } from '../config';
import { trainableVariables, type Autoencoder } from '../models';
import { batchParts } from '../threads';
import { tfProto } from './tf-graph-proto';
import { attrProto } from './graph';
import * as n from './native';
import { gaussian1d, ssimWindow } from './ssim';
import { chain, forwardChain, partSizes, type ConvLayer, type Layer } from './step';
import { subpixelPlan } from './subpixel';

type Tensor = tf.Tensor;

/** What one run can give per image. */
export interface InferOutputs {
  /** Reconstructions, N·H·W·C in the model's output range. */
  recon?: Float32Array;
  /** Codes (a VAE's μ), N × latentDim. */
  code?: Float32Array;
  /** Per-image MSE against the input. */
  mse?: Float32Array;
  /** Per-image mean SSIM against the input (metrics.ts's definition). */
  ssim?: Float32Array;
  /** Per-pixel squared error against the input, N·H·W·C (its mean per image is `mse`). */
  errMap?: Float32Array;
  /** Per-pixel SSIM map, N·(H−k+1)·(W−k+1)·C for the k×k window (k = 11, or the largest odd size that fits; its mean per image is `ssim`). */
  ssimMap?: Float32Array;
  /** With an {@link InspectSpec} only: the final anomaly maps (inspect/maps.ts `anomalyMaps`), N·H·W. */
  amap?: Float32Array;
  /** With an {@link InspectSpec} only: each final map's mean, maximum and mean of its top k % pixels (`mapScores`). */
  amapMean?: Float32Array;
  amapMax?: Float32Array;
  amapTopk?: Float32Array;
}

/**
 * The anomaly map and scores to compute inside the graph, exactly as inspect/maps.ts does with
 * tfjs ops: the raw map (channel mean of the squared error, or 1 − the SSIM map with reflected
 * borders), Gaussian smoothing of σ px (reflected borders; 0 = none; run as two 1-D passes, the
 * 2-D window being their product), and (m − mean) / (std + ε) when `norm` is given.
 */
export interface InspectSpec {
  map: 'l2' | 'ssim';
  smoothSigma: number;
  topkPercent: number;
  /** Per-pixel mean and spread (H·W each) and ε, the spread's floor (maps.ts `normEpsilon`). */
  norm?: { mean: Float32Array; std: Float32Array; eps: number };
}
export type InferWant = { [K in keyof InferOutputs]?: boolean };
type Kind = 'u8' | 'f32' | 'code';

/** What the recording executor hands back: the graph name of a kernel's output. */
class Sym {
  constructor(readonly ref: string) {}
}

interface SavedModelBackend {
  binding: Record<string, number> & {
    createTensor(shape: number[], dtype: number, data: ArrayBufferView): number;
    deleteTensor(id: number): void;
    tensorDataSync(id: number): Float32Array | Int32Array | Uint8Array;
    runSavedModel(id: number, inputIds: number[], inputNames: string, outputNames: string): unknown[];
  };
  loadSavedModelMetaGraph(dir: string, tags: string): number;
  deleteSavedModel(id: number): void;
  createOutputTensor(meta: unknown): Tensor;
}

const DT_FLOAT = 1;
const DT_INT32 = 3;
const DT_UINT8 = 4;

/** Whether forward-only work may run as a graph (AE_INFER_GRAPH=0 keeps tfjs's layers, for comparisons). */
export function inferGraphEnabled(): boolean {
  return process.env.AE_INFER_GRAPH !== '0';
}

/** Whether transposed convs to few channels take their sub-pixel form (AE_INFER_SUBPIXEL=0: TensorFlow's kernel, for comparisons). */
export function subpixelEnabled(): boolean {
  return process.env.AE_INFER_SUBPIXEL !== '0';
}

/** Images per chunk for pictures of `pixels` values: 256, or about 16 MB of float32 for big pictures. */
export function inferChunk(pixels: number): number {
  return Math.max(1, Math.min(256, Math.floor((1 << 22) / pixels)));
}

export class InferenceGraph {
  private readonly subgraphs = new Map<string, object[]>();
  /** Const nodes shared by every sub-graph (the weights), by name. */
  private readonly shared = new Map<string, object>();
  private session: number | undefined;
  readonly chunk: number;
  private readonly pixels: number;
  private readonly parts = batchParts();
  private readonly onednn = n.onednn();
  private readonly subpixel = subpixelEnabled();
  private padU8 = new Uint8Array(0);
  /** The inspection spec the `…i…` sub-graphs were recorded for (one at a time), and its number. */
  private specKey: string | undefined;
  private specId = 0;

  private constructor(
    private readonly be: SavedModelBackend,
    private readonly c: ModelConfig,
    private readonly enc: Layer[],
    private readonly mu: Layer | undefined,
    private readonly dec: Layer[],
    private readonly weights: Tensor[],
  ) {
    const [h, w, ch] = c.inputShape;
    this.pixels = h * w * ch;
    this.chunk = inferChunk(this.pixels);
  }

  /** The graph for a model, or why it cannot have one (then its callers stay on tfjs's layers). */
  static tryCreate(ae: Autoencoder, c: ModelConfig): { graph: InferenceGraph } | { reason: string } {
    if (!inferGraphEnabled()) return { reason: 'the inference graph is turned off (AE_INFER_GRAPH=0)' };
    const be = n.nodeBackend() as unknown as Partial<SavedModelBackend> | undefined;
    if (
      !be ||
      typeof be.loadSavedModelMetaGraph !== 'function' ||
      typeof be.createOutputTensor !== 'function' ||
      typeof be.binding?.runSavedModel !== 'function'
    ) {
      return { reason: 'this tfjs-node cannot load TensorFlow graphs' };
    }
    const vars = trainableVariables(ae);
    const index = new Map(vars.map((v, i) => [v, i] as const));
    const vae = isVae(c.kind);
    const e = chain(ae.encoder, index, vae ? 2 : 0);
    if (!e) return { reason: 'the encoder has a layer or connection the inference graph does not know' };
    const d = chain(ae.decoder, index, 0);
    if (!d) return { reason: 'the decoder has a layer or connection the inference graph does not know' };
    if (vae && !(e.heads[0]?.type === 'dense')) return { reason: "the VAE's μ head is not a dense layer" };
    const out = ae.decoder.outputs[0].shape.slice(1).join();
    if (out !== c.inputShape.join()) return { reason: `the decoder's output (${out}) is not the input's shape` };
    return {
      graph: new InferenceGraph(be as SavedModelBackend, c, e.layers, vae ? e.heads[0] : undefined, d.layers, vars),
    };
  }

  static create(ae: Autoencoder, c: ModelConfig): InferenceGraph | undefined {
    const r = InferenceGraph.tryCreate(ae, c);
    return 'graph' in r ? r.graph : undefined;
  }

  /**
   * Runs images (N·H·W·C, uint8 0..255 or float in [0,1]) through the model, `chunk` images at a
   * time; returns the outputs asked for. Per-image values only: nothing depends on how the images
   * are cut into chunks.
   */
  run(images: Uint8Array | Float32Array, want: InferWant, spec?: InspectSpec): InferOutputs {
    const count = images.length / this.pixels;
    if (!Number.isInteger(count))
      throw new Error(`expected a multiple of ${this.pixels} pixel values, got ${images.length}`);
    return this.chunks(images instanceof Uint8Array ? 'u8' : 'f32', images, count, this.pixels, want, spec);
  }

  /** The sub-graphs' key suffix for `spec`: a new spec drops the sub-graphs of the previous one. */
  private specSuffix(spec: InspectSpec | undefined): string {
    if (!spec) return '';
    const key = inspectSpecKey(spec);
    if (key !== this.specKey) {
      for (const k of [...this.subgraphs.keys()]) if (k.includes('i')) this.subgraphs.delete(k);
      this.specKey = key;
      this.specId++;
    }
    return `i${this.specId}`;
  }

  /** Images for codes (N × latentDim). */
  decode(codes: Float32Array): Float32Array {
    const d = this.c.latentDim;
    const count = codes.length / d;
    if (!Number.isInteger(count)) throw new Error(`expected a multiple of ${d} code values, got ${codes.length}`);
    return this.chunks('code', codes, count, d, { recon: true }).recon!;
  }

  private chunks(
    kind: Kind,
    input: Uint8Array | Float32Array,
    count: number,
    per: number,
    want: InferWant,
    spec?: InspectSpec,
  ): InferOutputs {
    const names = (Object.keys(want) as Array<keyof InferOutputs>).filter(
      (k) => want[k] && (kind !== 'code' || k === 'recon') && (spec !== undefined || !k.startsWith('amap')),
    );
    const [h, w] = this.c.inputShape;
    const suffix = kind === 'code' ? '' : this.specSuffix(spec);
    const width = {
      recon: this.pixels,
      code: this.c.latentDim,
      mse: 1,
      ssim: 1,
      errMap: this.pixels,
      ssimMap: ssimMapSize(this.c.inputShape),
      amap: h * w,
      amapMean: 1,
      amapMax: 1,
      amapTopk: 1,
    };
    const out: InferOutputs = {};
    // A call that is one whole chunk (no padding) hands back the session's arrays as they are.
    const whole = count > 0 && count <= this.chunk && this.padTo(count) === count;
    if (!whole) for (const k of names) out[k] = new Float32Array(count * width[k]);
    for (let at = 0; at < count; at += this.chunk) {
      const m = Math.min(this.chunk, count - at);
      const N = this.padTo(m);
      const key = `${kind}${N}${suffix}`;
      if (!this.subgraphs.has(key)) {
        this.subgraphs.set(key, this.record(kind, N, suffix ? spec : undefined));
        this.load();
      }
      let rows = input.subarray(at * per, (at + m) * per);
      if (N > m) rows = this.padded(rows, N * per);
      const results = this.runSession(kind, key, N, rows, names);
      names.forEach((k, j) => {
        if (whole) out[k] = results[j];
        else out[k]!.set(results[j].subarray(0, m * width[k]), at * width[k]);
      });
    }
    return out;
  }

  /** The batch a chunk of m images runs at: the chunk, or the next power of two (padded). */
  private padTo(m: number): number {
    return m === this.chunk ? m : Math.min(this.chunk, 2 ** Math.ceil(Math.log2(m)));
  }

  private padded(rows: Uint8Array | Float32Array, length: number): Uint8Array | Float32Array {
    if (rows instanceof Float32Array) {
      const f = new Float32Array(length);
      f.set(rows);
      return f;
    }
    if (this.padU8.length < length) this.padU8 = new Uint8Array(length);
    const u = this.padU8.subarray(0, length);
    u.set(rows);
    u.fill(0, rows.length);
    return u;
  }

  /** Runs the session on one chunk; the outputs' values, read straight from TensorFlow's tensors (freed here). */
  private runSession(
    kind: Kind,
    key: string,
    N: number,
    rows: Uint8Array | Float32Array,
    names: string[],
  ): Float32Array[] {
    const B = this.be.binding;
    const shape = kind === 'code' ? [N, this.c.latentDim] : [N, ...this.c.inputShape];
    const id = B.createTensor(shape, rows instanceof Uint8Array ? B.TF_UINT8 : B.TF_FLOAT, rows);
    let ids: number[] = [];
    try {
      const meta = B.runSavedModel(this.session!, [id], `${key}/in`, names.map((k) => `${key}/${k}`).join(','));
      ids = (meta as Array<{ id: number }>).map((m) => m.id);
      return ids.map((o) => B.tensorDataSync(o) as Float32Array);
    } finally {
      B.deleteTensor(id);
      for (const o of ids) B.deleteTensor(o);
    }
  }

  /** Records the sub-graph for `kind` inputs in batches of N: nodes named `${kind}${N}/…`, input `…/in`, outputs `…/recon`, `…/code`, `…/mse`, `…/ssim`, `…/errMap`, `…/ssimMap`. */
  private record(kind: Kind, N: number, spec?: InspectSpec): object[] {
    const key = `${kind}${N}${spec ? `i${this.specId}` : ''}`;
    const B = this.be.binding;
    const nodes: object[] = [];
    const temp: Tensor[] = [];
    const consts = new Map<Tensor, string>();
    const weightIndex = new Map(this.weights.map((w, i) => [w, i] as const));
    const node = (name: string, op: string, input: string[], attr: Record<string, object>) =>
      nodes.push({ name: `${key}/${name}`, op, input, attr });
    const constRef = (t: Tensor): string => {
      const w = weightIndex.get(t);
      if (w !== undefined) {
        const name = `w${w}`;
        if (!this.shared.has(name)) this.shared.set(name, constNode(name, t));
        return name;
      }
      let name = consts.get(t);
      if (!name) {
        consts.set(t, (name = `${key}/c${consts.size}`));
        nodes.push(constNode(name, t));
      }
      return name;
    };
    const keep = <T extends Tensor>(t: T): T => (temp.push(t), t);
    const shapes = new Map<string, Tensor>();
    const shapeT = (M: number, shape: number[]) => {
      const k = `${M}/${shape.join(',')}`;
      let t = shapes.get(k);
      if (!t) shapes.set(k, (t = keep(tf.tensor1d([M, ...shape], 'int32'))));
      return t;
    };
    const int1d = (v: number[]) => keep(tf.tensor1d(v, 'int32'));
    const scalar = (v: number) => keep(tf.scalar(v));
    const useOnednn = (hwc: number[]) => this.onednn && hwc[2] <= 4;
    // Transposed convs to few channels (a decoder's last layer) in their sub-pixel form (subpixel.ts).
    const convT = (l: ConvLayer, x: Tensor): Tensor | undefined => {
      if (!this.onednn || !this.subpixel || l.outShape[2] > 4) return undefined;
      const plan = subpixelPlan(
        this.weights[l.kernel].dataSync() as Float32Array,
        l.kernelShape,
        this.weights[l.bias].dataSync() as Float32Array,
        l.spec.strides,
        l.spec.padding,
        [l.inShape[0], l.inShape[1]],
        [l.outShape[0], l.outShape[1]],
      );
      if (!plan) return undefined;
      const A = n.attrs;
      const [[t, b], [left, right]] = plan.pad;
      const padded = n.op(
        'Pad',
        [x, keep(tf.tensor2d([0, 0, t, b, left, right, 0, 0], [4, 2], 'int32'))],
        [A.type('Tpaddings', true)],
      );
      const z = n.mklConv2dWithBias(
        padded,
        keep(tf.tensor4d(plan.kernel, plan.kernelShape)),
        keep(tf.tensor1d(plan.bias)),
        { strides: [1, 1], padding: 'VALID' },
      );
      return n.op('DepthToSpace', [z], [A.int('block_size', plan.block), A.str('data_format', 'NHWC')]);
    };

    // The input: uint8 cast and scaled, float as it is, or codes.
    const F = { type: DT_FLOAT };
    const inShape = kind === 'code' ? [N, this.c.latentDim] : [N, ...this.c.inputShape];
    node('in', 'Placeholder', [], {
      dtype: { type: kind === 'u8' ? DT_UINT8 : DT_FLOAT },
      shape: { shape: { dim: inShape.map((size) => ({ size })) } },
    });
    const input = `${key}/in`;
    const sizes = partSizes(N, this.parts);
    // Each part's pixels as floats: uint8 sliced, cast and scaled per part (so the parts scale theirs
    // side by side, one per core), float sliced as it is (the whole input for one part).
    const partInputs: string[] = [];
    {
      const int1 = (v: number[]) => constRef(int1d(v));
      const rest = Array<number>(inShape.length - 1);
      let begin = 0;
      sizes.forEach((size, i) => {
        let ref = input;
        const T = { type: kind === 'u8' ? DT_UINT8 : DT_FLOAT };
        if (sizes.length > 1) {
          const b = int1([begin, ...rest.fill(0)]);
          const z = int1([size, ...rest.fill(-1)]);
          node(`p${i}`, 'Slice', [input, b, z], { T, Index: { type: DT_INT32 } });
          ref = `${key}/p${i}`;
        }
        if (kind === 'u8') {
          node(`cast${i}`, 'Cast', [ref], { SrcT: T, DstT: F, Truncate: { b: false } });
          node(`x${i}`, 'RealDiv', [`${key}/cast${i}`, constRef(scalar(255))], { T: F });
          ref = `${key}/x${i}`;
        }
        partInputs.push(ref);
        begin += size;
      });
    }

    let at = 0;
    const outputs: Record<string, string[]> = {
      recon: [],
      code: [],
      mse: [],
      ssim: [],
      errMap: [],
      ssimMap: [],
      amap: [],
      amapMean: [],
      amapMax: [],
      amapTopk: [],
    };
    try {
      n.withExecutor(
        (name, attrs, inputs, numOutputs) => {
          const refs = inputs.map((t) => ((t as unknown) instanceof Sym ? (t as unknown as Sym).ref : constRef(t)));
          const ref = `${key}/k${at++}`;
          nodes.push({
            name: ref,
            op: name,
            input: refs,
            attr: Object.fromEntries(attrs.map((a) => [a.name, attrProto(B, a)])),
          });
          return Array.from({ length: numOutputs }, (_, j) => new Sym(j ? `${ref}:${j}` : ref)) as unknown as Tensor[];
        },
        () => {
          for (const [i, size] of sizes.entries()) {
            const part = new Sym(partInputs[i]) as unknown as Tensor;
            let code = part;
            if (kind !== 'code') {
              code = forwardChain(this.enc, part, this.weights, size, undefined, shapeT, useOnednn, convT);
              if (this.mu && this.mu.type === 'dense')
                code = n.biasAdd(n.matMul(code, this.weights[this.mu.kernel]), this.weights[this.mu.bias]);
              outputs.code.push(symRef(code));
            }
            const recon = forwardChain(this.dec, code, this.weights, size, undefined, shapeT, useOnednn, convT);
            outputs.recon.push(symRef(recon));
            if (kind !== 'code') {
              const axes = int1d([1, 2, 3]);
              const err = n.op('SquaredDifference', [recon, part]);
              outputs.errMap.push(symRef(err));
              outputs.mse.push(symRef(n.mean(err, axes)));
              const map = this.ssimMap(part, recon, scalar, keep);
              outputs.ssimMap.push(symRef(map));
              outputs.ssim.push(symRef(n.mean(map, axes)));
              if (spec) {
                const a = this.anomalyMap(part, recon, err, size, spec, { scalar, keep, int1d, shapeT });
                outputs.amap.push(symRef(a));
                const [h, w] = this.c.inputShape;
                const flat = n.reshape(a, int1d([size, h * w]));
                const one = int1d([1]);
                const reduce = [n.attrs.type('Tidx', true), n.attrs.bool('keep_dims', false)];
                outputs.amapMean.push(symRef(n.mean(flat, one)));
                outputs.amapMax.push(symRef(n.op('Max', [flat, one], reduce)));
                const k = keep(tf.scalar(topkCount(h, w, spec.topkPercent), 'int32'));
                const top = n.op('TopKV2', [flat, k], [n.attrs.bool('sorted', true)]);
                outputs.amapTopk.push(symRef(n.mean(top, one)));
              }
            }
          }
          // The parts' outputs, back in one batch.
          for (const [name, parts] of Object.entries(outputs)) {
            if (!parts.length) continue;
            const whole =
              parts.length === 1
                ? parts[0]
                : symRef(
                    n.op(
                      'ConcatV2',
                      [...parts.map((p) => new Sym(p) as unknown as Tensor), keep(tf.scalar(0, 'int32'))],
                      [n.attrs.int('N', parts.length), n.attrs.type('Tidx', true)],
                    ),
                  );
            node(name, 'Identity', [whole], { T: F });
          }
        },
      );
    } finally {
      tf.dispose(temp);
    }
    return nodes;
  }

  /** The final anomaly map [size,H,W] of input `x` and its reconstruction (inspect/maps.ts `anomalyMaps`, kernel for kernel). */
  private anomalyMap(
    x: Tensor,
    recon: Tensor,
    err: Tensor,
    size: number,
    spec: InspectSpec,
    t: {
      scalar: (v: number) => Tensor;
      keep: (t: Tensor) => Tensor;
      int1d: (v: number[]) => Tensor;
      shapeT: (M: number, shape: number[]) => Tensor;
    },
  ): Tensor {
    const [h, w] = this.c.inputShape;
    const A = n.attrs;
    const pad = (v: Tensor, p: number) =>
      p > 0
        ? n.op(
            'MirrorPad',
            [v, t.keep(tf.tensor2d([0, 0, p, p, p, p, 0, 0], [4, 2], 'int32'))],
            [A.type('Tpaddings', true), A.str('mode', 'REFLECT')],
          )
        : v;
    let m: Tensor;
    if (spec.map === 'l2') m = n.mean(err, t.int1d([3]));
    else {
      const p = (ssimWindow(this.c.inputShape) - 1) / 2;
      m = n.sub(t.scalar(1), n.mean(this.ssimMap(pad(x, p), pad(recon, p), t.scalar, t.keep, true), t.int1d([3])));
    }
    if (spec.smoothSigma > 0) {
      const sigma = spec.smoothSigma;
      const half = Math.max(1, Math.min(Math.ceil(3 * sigma), h - 1, w - 1));
      const g: number[] = [];
      for (let i = 0; i <= 2 * half; i++) g.push(Math.exp(-((i - half) ** 2) / (2 * sigma * sigma)));
      const s = g.reduce((p, q) => p + q, 0);
      const k = g.map((v) => v / s);
      const dw = [
        A.int('strides', [1, 1, 1, 1]),
        A.str('padding', 'VALID'),
        A.str('data_format', 'NHWC'),
        A.int('dilations', [1, 1, 1, 1]),
      ];
      const col = t.keep(tf.tensor4d(k, [2 * half + 1, 1, 1, 1]));
      const row = t.keep(tf.tensor4d(k, [1, 2 * half + 1, 1, 1]));
      const padded = pad(n.reshape(m, t.shapeT(size, [h, w, 1])), half);
      const smooth = n.op('DepthwiseConv2dNative', [n.op('DepthwiseConv2dNative', [padded, col], dw), row], dw);
      m = n.reshape(smooth, t.shapeT(size, [h, w]));
    }
    if (spec.norm) {
      const { mean, std, eps } = spec.norm;
      const den = Float32Array.from(std, (v) => v + Math.fround(eps)); // tfjs adds ε as a float32 scalar
      m = n.op('RealDiv', [n.sub(m, t.keep(tf.tensor3d(mean, [1, h, w]))), t.keep(tf.tensor3d(den, [1, h, w]))]);
    }
    return m;
  }

  /** The SSIM map of a and b (metrics.ts `ssimPerImage` before its mean, kernel for kernel). */
  private ssimMap(
    a: Tensor,
    b: Tensor,
    scalar: (v: number) => Tensor,
    keep: (t: Tensor) => Tensor,
    separable = false,
  ): Tensor {
    const [, , c] = this.c.inputShape;
    const size = ssimWindow(this.c.inputShape);
    const k = gaussian1d(size);
    const win: number[] = [];
    for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) for (let ch = 0; ch < c; ch++) win.push(k[i] * k[j]);
    const winT = keep(tf.tensor4d(win, [size, size, c, 1]));
    const A = n.attrs;
    const dwAttrs = [
      A.int('strides', [1, 1, 1, 1]),
      A.str('padding', 'VALID'),
      A.str('data_format', 'NHWC'),
      A.int('dilations', [1, 1, 1, 1]),
    ];
    // Separable (the anomaly maps): the window is the product of its 1-D Gaussians, so a column
    // pass then a row pass give the same local means with 2k instead of k² products a pixel.
    const col = keep(
      tf.tensor4d(
        k.flatMap((v) => Array<number>(c).fill(v)),
        [size, 1, c, 1],
      ),
    );
    const row = keep(
      tf.tensor4d(
        k.flatMap((v) => Array<number>(c).fill(v)),
        [1, size, c, 1],
      ),
    );
    const filt = separable
      ? (x: Tensor) => n.op('DepthwiseConv2dNative', [n.op('DepthwiseConv2dNative', [x, col], dwAttrs), row], dwAttrs)
      : (x: Tensor) => n.op('DepthwiseConv2dNative', [x, winT], dwAttrs);
    const C1 = scalar(0.01 ** 2);
    const C2 = scalar(0.03 ** 2);
    const two = scalar(2);
    const muA = filt(a);
    const muB = filt(b);
    const muA2 = n.square(muA);
    const muB2 = n.square(muB);
    const muAB = n.mul(muA, muB);
    const sA = n.sub(filt(n.square(a)), muA2);
    const sB = n.sub(filt(n.square(b)), muB2);
    const sAB = n.sub(filt(n.mul(a, b)), muAB);
    const num = n.mul(n.add(n.mul(two, muAB), C1), n.add(n.mul(two, sAB), C2));
    const den = n.mul(n.add(n.add(muA2, muB2), C1), n.add(n.add(sA, sB), C2));
    return n.op('RealDiv', [num, den]);
  }

  /** (Re)builds the graph from every sub-graph recorded so far and loads it into a fresh session. */
  private load(): void {
    const nodes = [...this.shared.values(), ...[...this.subgraphs.values()].flat()];
    const SavedModel = tfProto.lookupType('tensorflow.SavedModel');
    const bytes = SavedModel.encode(
      SavedModel.create({
        savedModelSchemaVersion: 1,
        metaGraphs: [{ metaInfoDef: { tags: ['serve'] }, graphDef: { node: nodes, versions: { producer: 1286 } } }],
      }),
    ).finish();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-infer-graph-'));
    try {
      fs.writeFileSync(path.join(dir, 'saved_model.pb'), bytes);
      const session = this.be.loadSavedModelMetaGraph(dir, 'serve');
      this.close();
      this.session = session;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  private close(): void {
    if (this.session !== undefined) this.be.deleteSavedModel(this.session);
    this.session = undefined;
  }

  /** Frees the session (the graph holds no tfjs tensor). */
  dispose(): void {
    this.close();
    this.subgraphs.clear();
    this.shared.clear();
  }
}

/** Values per image of the SSIM map for pictures of `shape`. */
export function ssimMapSize(shape: readonly number[]): number {
  const k = ssimWindow(shape);
  return (shape[0] - k + 1) * (shape[1] - k + 1) * shape[2];
}

/** The pixels the top-k score averages for h × w maps (inspect/maps.ts `topkCount`). */
function topkCount(h: number, w: number, percent: number): number {
  return Math.max(1, Math.min(h * w, Math.round((h * w * percent) / 100)));
}

/** What identifies an inspection spec: its settings and a hash of its statistics' bits. */
function inspectSpecKey(s: InspectSpec): string {
  let hash = 0x811c9dc5;
  if (s.norm) {
    for (const a of [s.norm.mean, s.norm.std]) {
      const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
      for (let i = 0; i < u.length; i++) hash = Math.imul(hash ^ u[i], 0x01000193);
    }
  }
  return `${s.map}|${s.smoothSigma}|${s.topkPercent}|${s.norm ? `${s.norm.std.length}|${s.norm.eps}|${hash >>> 0}` : '-'}`;
}

function symRef(t: Tensor): string {
  return (t as unknown as Sym).ref;
}

/** A Const node holding `t`'s value (float32 or int32). */
function constNode(name: string, t: Tensor): object {
  const data = t.dataSync();
  const dtype = t.dtype === 'int32' ? DT_INT32 : DT_FLOAT;
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return {
    name,
    op: 'Const',
    attr: {
      dtype: { type: dtype },
      value: {
        tensor: { dtype, tensorShape: { dim: t.shape.map((size) => ({ size })) }, tensorContent: Buffer.from(bytes) },
      },
    },
  };
}
