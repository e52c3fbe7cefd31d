// The fast training step: forward pass, objective, hand-written backward pass and
// optimizer update for the layer set models.ts builds, run as TensorFlow kernels called directly
// (native.ts) instead of through tfjs's tape. Per layer that is
//   forward  MatMul|Conv2D|Conv2DBackpropInput → BiasAdd → activation
//   backward <activation>Grad → 2 × MatMul|Conv2DBackprop* → BiasAddGrad
// (Conv2D and Conv2DBackpropFilter on oneDNN's kernels, with the bias folded in, where TensorFlow
// has them; see native.ts). `step` records all of it once as a TensorFlow graph and runs that in a
// session from then on (graph.ts); `lossAndGrads` is always kernel by kernel.
// and one Resource<Optimizer> kernel per variable. Same objective as train.ts's `objective`
// (MSE | clipped BCE | 1 − SSIM | (1 − w)·MSE + w·(1 − SSIM), the SSIM term in ssim.ts, + β·KL/pixels
// for VAEs, + l1·mean|z| for sparse AEs), same random draws, same gradients up to float rounding
// (checked per model kind in test/unit/main/engine/fast-step.test.ts and fast/ssim.test.ts).
// Models with anything else (a layer kind this file does not know) get `undefined` and train on the
// plain tfjs path.
import { tf } from '../tf';
import { codeOf, isVae, unreachable, type ModelConfig } from '../config';
import type { Autoencoder } from '../models';
import * as n from './native';
import { NativeOptimizer } from './optimizer';
import { batchParts } from '../threads';
import { GraphStep } from './graph';
import { ssimTerm } from './ssim';

type Tensor = tf.Tensor;
export type Act = 'relu' | 'sigmoid' | 'tanh' | 'elu' | 'linear' | 'leaky';

export type Layer =
  | { type: 'dense'; kernel: number; bias: number; act: Act }
  | {
      type: 'conv' | 'convT';
      kernel: number;
      bias: number;
      act: Act;
      spec: n.ConvSpec;
      kernelShape: number[];
      inShape: number[];
      outShape: number[];
    }
  | { type: 'reshape'; inShape: number[]; outShape: number[] }
  | { type: 'act'; act: Act; alpha: number };

/** A conv or transposed-conv layer of a chain. */
export type ConvLayer = Extract<Layer, { kernelShape: number[] }>;

export interface Saved {
  x: Tensor;
  y: Tensor;
}

const ACTS: Record<string, Act> = { relu: 'relu', sigmoid: 'sigmoid', tanh: 'tanh', elu: 'elu', linear: 'linear' };

/** Reads a tfjs-layers model as a plain chain of layers the fast step knows, or undefined (also read by infer.ts). */
export function chain(
  model: tf.LayersModel,
  varIndex: Map<tf.Variable, number>,
  heads: number,
): { layers: Layer[]; heads: Layer[] } | undefined {
  const layers: Layer[] = [];
  const all = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  let prev: tf.layers.Layer | undefined;
  for (const [i, l] of all.entries()) {
    const inbound = l.inboundNodes[0]?.inboundLayers ?? [];
    const isHead = i >= all.length - heads;
    const expectedPrev = isHead ? all[all.length - heads - 1] : prev;
    if (
      inbound.length !== 1 ||
      (expectedPrev && inbound[0] !== expectedPrev) ||
      (!expectedPrev && inbound[0].getClassName() !== 'InputLayer')
    )
      return undefined;
    prev = l;
    const cfg = l.getConfig() as Record<string, unknown>;
    const shapes = l.inboundNodes[0].inputShapes as unknown as Array<number | null> | Array<Array<number | null>>;
    const inShape = (Array.isArray(shapes[0]) ? shapes[0] : shapes).slice(1) as number[];
    const outShape = (l.outputShape as number[]).slice(1);
    const weights = l.trainableWeights.map((w) => varIndex.get(w.read() as tf.Variable));
    if (weights.some((w) => w === undefined) || l.nonTrainableWeights.length) return undefined;
    const actOf = (a: unknown): Act | undefined => ACTS[String(a ?? 'linear')];
    switch (l.getClassName()) {
      case 'Flatten':
      case 'Reshape':
        layers.push({ type: 'reshape', inShape, outShape });
        break;
      case 'Dense': {
        const act = actOf(cfg.activation);
        if (!act || weights.length !== 2 || inShape.length !== 1) return undefined;
        layers.push({ type: 'dense', kernel: weights[0]!, bias: weights[1]!, act });
        break;
      }
      case 'Conv2D':
      case 'Conv2DTranspose': {
        const act = actOf(cfg.activation);
        const strides = cfg.strides as number[];
        const dil = (cfg.dilationRate as number[] | number | undefined) ?? 1;
        const dilOk = Array.isArray(dil) ? dil.every((d) => d === 1) : dil === 1;
        if (
          !act ||
          weights.length !== 2 ||
          cfg.dataFormat !== 'channelsLast' ||
          !dilOk ||
          !['same', 'valid'].includes(String(cfg.padding))
        )
          return undefined;
        const spec: n.ConvSpec = {
          strides: [strides[0], strides[1]],
          padding: String(cfg.padding).toUpperCase() as 'SAME' | 'VALID',
        };
        const kernelShape = l.trainableWeights[0].shape as number[];
        layers.push({
          type: l.getClassName() === 'Conv2D' ? 'conv' : 'convT',
          kernel: weights[0]!,
          bias: weights[1]!,
          act,
          spec,
          kernelShape,
          inShape,
          outShape,
        });
        break;
      }
      case 'Activation': {
        const act = actOf(cfg.activation);
        if (!act) return undefined;
        layers.push({ type: 'act', act, alpha: 0 });
        break;
      }
      case 'LeakyReLU':
        layers.push({ type: 'act', act: 'leaky', alpha: Number(cfg.alpha) });
        break;
      default:
        return undefined;
    }
  }
  // The heads in the order of the model's outputs (a VAE's encoder gives [μ, log σ²]).
  const headLayers = all.slice(all.length - heads);
  const order = model.outputLayers.map((o) => headLayers.indexOf(o));
  if (heads && order.some((i) => i < 0)) return undefined;
  const headPlans = layers.slice(layers.length - heads);
  return { layers: layers.slice(0, layers.length - heads), heads: heads ? order.map((i) => headPlans[i]) : [] };
}

/** An activation as one TensorFlow kernel (linear: z itself). */
export function activation(a: Act, z: Tensor, alpha: number): Tensor {
  switch (a) {
    case 'relu':
      return n.relu(z);
    case 'sigmoid':
      return n.sigmoid(z);
    case 'tanh':
      return n.tanh(z);
    case 'elu':
      return n.elu(z);
    case 'leaky':
      return n.leakyRelu(z, alpha);
    case 'linear':
      return z;
  }
}

/**
 * The forward pass through `layers` on TensorFlow's kernels (native.ts), the training step's and the
 * inference graph's (infer.ts): `shapeT(N, shape)` gives the kept int32 tensor [N, ...shape],
 * `useOnednn(hwc)` whether a convolution on that input runs on oneDNN's kernel. Each layer's input
 * and output go to `saved` when given (the backward pass reads them).
 */
export function forwardChain(
  layers: Layer[],
  x: Tensor,
  W: Tensor[],
  N: number,
  saved: Saved[] | undefined,
  shapeT: (N: number, shape: number[]) => Tensor,
  useOnednn: (hwc: number[]) => boolean,
  /** The inference graph's own form of a transposed conv (bias added, no activation), or undefined for the usual kernel. */
  convT?: (l: ConvLayer, x: Tensor) => Tensor | undefined,
): Tensor {
  for (const l of layers) {
    let y: Tensor;
    if (l.type === 'reshape') y = n.reshape(x, shapeT(N, l.outShape));
    else if (l.type === 'act') y = activation(l.act, x, l.alpha);
    else {
      let z: Tensor;
      if (l.type === 'dense') z = n.biasAdd(n.matMul(x, W[l.kernel]), W[l.bias]);
      else if (l.type === 'conv')
        z = useOnednn(l.inShape)
          ? n.mklConv2dWithBias(x, W[l.kernel], W[l.bias], l.spec)
          : n.biasAdd(n.conv2d(x, W[l.kernel], l.spec), W[l.bias]);
      else
        z =
          convT?.(l as ConvLayer, x) ??
          n.biasAdd(n.conv2dBackpropInput(shapeT(N, l.outShape), W[l.kernel], x, l.spec), W[l.bias]);
      y = activation(l.act, z, 0);
    }
    saved?.push({ x, y });
    x = y;
  }
  return x;
}

export interface StepResult {
  loss: tf.Scalar;
  grads: Tensor[];
}

/** A compiled training step for one model; `undefined` from compileFastStep when the model is not supported. */
export class FastStep {
  readonly optimizer: NativeOptimizer;
  private readonly perN = new Map<number, Map<string, Tensor>>();
  private readonly consts: Record<string, Tensor>;
  /** Which convolutions run on oneDNN's kernels: all (kernel by kernel), those with ≤ 4 image channels (in the graph), none. */
  private onednn: 'all' | 'few' | 'none' = n.onednn() ? 'all' : 'none';
  /** The graph step: undefined until the first step, null when not used. */
  private graph: GraphStep | null | undefined;

  private constructor(
    private readonly c: ModelConfig,
    private readonly enc: Layer[],
    private readonly heads: Layer[],
    private readonly dec: Layer[],
    vars: tf.Variable[],
  ) {
    this.optimizer = new NativeOptimizer(c, vars);
    this.latent = heads.length ? vars[(heads[0] as Extract<Layer, { type: 'dense' }>).bias].shape[0] : 0;
    this.beta = c.beta;
    const s = (x: number) => tf.keep(tf.scalar(x));
    this.consts = { one: s(1), half: s(0.5), zero: s(0), lo: s(1e-7), hi: s(1 - 1e-7) };
  }

  static compile(ae: Autoencoder, c: ModelConfig, vars: tf.Variable[]): FastStep | undefined {
    const r = FastStep.tryCompile(ae, c, vars);
    return 'step' in r ? r.step : undefined;
  }

  /** The fast step, or why this model cannot have one (recorded with the run, so a slower path is never taken silently). */
  static tryCompile(ae: Autoencoder, c: ModelConfig, vars: tf.Variable[]): { step: FastStep } | { reason: string } {
    if (!n.nodeBackend()) return { reason: 'the native TensorFlow backend is not loaded' };
    const index = new Map(vars.map((v, i) => [v, i] as const));
    // The step writes each kind of code's objective term by hand (below: the KL term, the L1 term).
    const code = codeOf(c.kind);
    switch (code) {
      case 'plain':
      case 'variational':
      case 'sparse':
        break;
      default:
        return unreachable(code, 'kind of code');
    }
    const vae = isVae(c.kind);
    const e = chain(ae.encoder, index, vae ? 2 : 0);
    if (!e) return { reason: 'the encoder has a layer or connection the fast step does not know' };
    const d = chain(ae.decoder, index, 0);
    if (!d) return { reason: 'the decoder has a layer or connection the fast step does not know' };
    if (vae && !e.heads.every((h) => h.type === 'dense' && h.act === 'linear'))
      return { reason: "the VAE's heads are not two linear dense layers" };
    const used = [...e.layers, ...e.heads, ...d.layers].flatMap((l) => ('kernel' in l ? [l.kernel, l.bias] : []));
    if (new Set(used).size !== vars.length || used.length !== vars.length)
      return { reason: 'the trainable variables do not match the layers' };
    return { step: new FastStep(c, e.layers, e.heads, d.layers, vars) };
  }

  /** A VAE's code size (its heads' width), for ε; 0 otherwise. */
  private readonly latent: number;

  /** The KL weight of the next steps (a VAE's KL warm-up changes it per epoch); starts at the config's β. */
  beta: number;

  /** Which form of the step ran last: one TensorFlow graph, or kernel by kernel (before the first step: undefined). */
  get form(): 'graph' | 'kernels' | undefined {
    return this.graph === undefined ? undefined : this.graph ? 'graph' : 'kernels';
  }
  /** Whether this step runs as one TensorFlow graph when it can: decided once, when the step is made (AE_GRAPH_STEP=0 says no, for comparisons). */
  readonly tryGraph = graphStepEnabled();
  /** Why the step is not (or no longer) one graph; undefined while it is, or when it was turned off on purpose. */
  graphRefusal: string | undefined;
  /** Called when the graph step fails mid-run and training continues kernel by kernel. */
  onFallback: ((reason: string) => void) | undefined;

  /** Int32 shape tensors and scalars that depend on the batch size, made once per size and kept. */
  private k(N: number, key: string, make: () => Tensor): Tensor {
    let m = this.perN.get(N);
    if (!m) this.perN.set(N, (m = new Map()));
    let t = m.get(key);
    if (!t) m.set(key, (t = tf.keep(make())));
    return t;
  }
  private shapeT(N: number, shape: number[]): Tensor {
    return this.k(N, `s${shape.join(',')}`, () => tf.tensor1d([N, ...shape], 'int32'));
  }
  private axes(rank: number): Tensor {
    return this.k(0, `a${rank}`, () =>
      tf.tensor1d(
        Array.from({ length: rank }, (_, i) => i),
        'int32',
      ),
    );
  }

  private useOnednn(hwc: number[]): boolean {
    return this.onednn === 'all' || (this.onednn === 'few' && hwc[2] <= 4);
  }

  /** Σ of dz over all axes but the last. TensorFlow's BiasAddGrad is slow for one channel (≈ 0.4 ms on B's 28×28×1 output); Sum does that case. */
  private biasGrad(dz: Tensor): Tensor {
    if (dz.shape[dz.rank - 1] !== 1) return n.biasAddGrad(dz);
    return n.sum(dz, this.axes(dz.rank - 1));
  }

  private actGrad(a: Act, dy: Tensor, s: Saved, alpha: number): Tensor {
    switch (a) {
      case 'relu':
        return n.reluGrad(dy, s.y);
      case 'sigmoid':
        return n.sigmoidGrad(s.y, dy);
      case 'tanh':
        return n.tanhGrad(s.y, dy);
      case 'elu':
        return n.eluGrad(dy, s.y);
      case 'leaky':
        return n.leakyReluGrad(dy, s.x, alpha);
      case 'linear':
        return dy;
    }
  }

  private forward(layers: Layer[], x: Tensor, W: Tensor[], N: number, saved: Saved[]): Tensor {
    return forwardChain(
      layers,
      x,
      W,
      N,
      saved,
      (N, shape) => this.shapeT(N, shape),
      (hwc) => this.useOnednn(hwc),
    );
  }

  /** Backward through `layers` from dy at their output; returns dx at their input (undefined when `needInput` is false). */
  private backward(
    layers: Layer[],
    dy: Tensor,
    W: Tensor[],
    N: number,
    saved: Saved[],
    grads: Tensor[],
    needInput: boolean,
  ): Tensor | undefined {
    // Layers before the first one with weights need no gradient when the input needs none.
    let first = 0;
    if (!needInput) while (first < layers.length && !('kernel' in layers[first])) first++;
    let g: Tensor | undefined = dy;
    for (let i = layers.length - 1; i >= first; i--) {
      const l = layers[i];
      const s = saved[i];
      const wantDx = needInput || i > first;
      if (l.type === 'reshape') g = n.reshape(g!, this.shapeT(N, l.inShape));
      else if (l.type === 'act') g = this.actGrad(l.act, g!, s, l.alpha);
      else {
        const dz = this.actGrad(l.act, g!, s, 0);
        const ks = () =>
          this.k(0, `k${l.kernel}`, () => tf.tensor1d((l as { kernelShape: number[] }).kernelShape, 'int32'));
        if (l.type === 'dense') {
          grads[l.bias] = this.biasGrad(dz);
          grads[l.kernel] = n.matMul(s.x, dz, true, false);
          g = wantDx ? n.matMul(dz, W[l.kernel], false, true) : undefined;
        } else if (l.type === 'conv') {
          // In a graph, TensorFlow's shape inference gives the fused kernel's bias gradient the input's
          // channel count, not the output's: with plain SGD (whose update kernel checks the shapes) a
          // graph whose conv has 1–4 input channels and more filters failed to load and the run fell
          // back to kernel by kernel. The graph takes the two kernels.
          if (this.useOnednn(l.inShape) && this.onednn === 'all')
            [grads[l.kernel], grads[l.bias]] = n.mklConv2dBackpropFilterWithBias(s.x, ks(), dz, l.spec);
          else if (this.useOnednn(l.inShape)) {
            grads[l.bias] = this.biasGrad(dz);
            grads[l.kernel] = n.mklConv2dBackpropFilter(s.x, ks(), dz, l.spec);
          } else {
            grads[l.bias] = this.biasGrad(dz);
            grads[l.kernel] = n.conv2dBackpropFilter(s.x, ks(), dz, l.spec);
          }
          g = wantDx ? n.conv2dBackpropInput(this.shapeT(N, l.inShape), W[l.kernel], dz, l.spec) : undefined;
        } else {
          grads[l.bias] = this.biasGrad(dz);
          const mkl = this.useOnednn(l.outShape);
          grads[l.kernel] = (mkl ? n.mklConv2dBackpropFilter : n.conv2dBackpropFilter)(dz, ks(), s.x, l.spec);
          g = wantDx ? (mkl ? n.mklConv2d : n.conv2d)(dz, W[l.kernel], l.spec) : undefined;
        }
      }
    }
    return needInput ? g : undefined;
  }

  /**
   * The tensors a step consumes that change from step to step besides the batch, new each time (the
   * caller disposes them): the optimizer's scalars for the next update, then for a VAE ε (drawn from
   * `seed` exactly as train.ts's `objective` draws it) and the KL term's two weights (from the
   * current β). Everything else the step's kernels read is the batch or a tensor kept for the step's
   * whole life — what lets graph.ts run the step without replaying its JavaScript.
   */
  stepValues(N: number, seed: number): Tensor[] {
    const opt = this.optimizer.stepScalars();
    if (!this.heads.length) return opt;
    const P = this.c.inputShape[0] * this.c.inputShape[1] * this.c.inputShape[2];
    const cKl = this.beta / P / N;
    return [...opt, tf.randomNormal([N, this.latent], 0, 1, 'float32', seed), tf.scalar(-0.5 * cKl), tf.scalar(cKl)];
  }

  /**
   * Loss and gradients for one batch (input = the possibly corrupted batch, target = the clean one),
   * with the parameters read from the optimizer's variables and `values` from stepValues (made here
   * from `seed` when not given). Returns new tensors; the caller disposes them. `total`: the images
   * of the whole batch when this is one part of it (splitLossAndGrads) — loss and gradients then come out as
   * this part's share of the whole batch's mean, so the parts' sum is the whole batch's.
   */
  lossAndGrads(input: Tensor, target: Tensor, seed: number, values?: Tensor[], total?: number): StepResult {
    return tf.tidy(() => {
      const c = this.c;
      const k = this.consts;
      const N = input.shape[0];
      const T = total ?? N;
      const v = values ?? this.stepValues(N, seed);
      const nOpt = v.length - (this.heads.length ? 3 : 0);
      const W = this.optimizer.read();
      const grads: Tensor[] = new Array(W.length);
      const savedE: Saved[] = [];
      const savedD: Saved[] = [];
      const enc = this.forward(this.enc, input, W, N, savedE);
      let z = enc;
      let mu: Tensor | undefined;
      let lv: Tensor | undefined;
      let eps: Tensor | undefined;
      let sd: Tensor | undefined;
      let extra: Tensor | undefined;
      if (this.heads.length) {
        const [hm, hl] = this.heads as Array<Extract<Layer, { type: 'dense' }>>;
        mu = n.biasAdd(n.matMul(enc, W[hm.kernel]), W[hm.bias]);
        lv = n.biasAdd(n.matMul(enc, W[hl.kernel]), W[hl.bias]);
        eps = v[nOpt];
        sd = n.exp(n.mul(lv, k.half));
        z = n.add(mu, n.mul(sd, eps));
      }
      const out = this.forward(this.dec, z, W, N, savedD);
      // The decoder's trailing reshape changes nothing for an elementwise loss: compare before it.
      let last = this.dec.length;
      while (last > 0 && this.dec[last - 1].type === 'reshape') last--;
      const recon = last === this.dec.length ? out : last === 0 ? z : savedD[last - 1].y;
      const ssim = c.loss === 'ssim' || c.loss === 'l2+ssim';
      const flatTarget = ssim
        ? target // the SSIM term reads the pictures as pictures (ssim.ts)
        : recon.shape.length === target.shape.length && recon.shape.every((d, i) => d === target.shape[i])
          ? target
          : input === target &&
              savedE.length &&
              this.enc[0].type === 'reshape' &&
              savedE[0].y.shape.join() === recon.shape.join()
            ? savedE[0].y
            : n.reshape(target, this.shapeT(N, recon.shape.slice(1)));
      const M = (recon.size / N) * T; // the values the loss averages over: the whole batch's
      const allAxes = this.axes(recon.rank);
      const outLayer = last > 0 ? this.dec[last - 1] : undefined;
      const outAct: Act = outLayer && outLayer.type !== 'reshape' ? outLayer.act : 'linear';

      // Reconstruction loss and its gradient at the output layer's pre-activation (dzOut) or at the output (dOut).
      let rec: Tensor;
      let dOut: Tensor | undefined;
      let dzOut: Tensor | undefined;
      const invM = this.k(N, `invM/${T}`, () => tf.scalar(1 / M));
      if (ssim) {
        // w·(1 − SSIM) [+ (1 − w)·MSE for l2+ssim] on the decoder's output as pictures; its gradient
        // goes back through the trailing reshape too (decLayers below).
        const w = c.loss === 'ssim' ? 1 : c.ssimWeight;
        const term = ssimTerm(out, target, c.inputShape, N, T, w, (key, make) => this.k(0, key, make));
        rec = term.loss;
        dOut = term.dx;
        if (w < 1) {
          const diff = n.sub(out, target);
          rec = n.add(
            rec,
            n.mul(
              n.mean(n.square(diff), this.axes(out.rank)),
              this.k(0, `mseW/${w}`, () => tf.scalar(1 - w)),
            ),
          );
          dOut = n.add(
            dOut,
            n.mul(
              diff,
              this.k(N, `mseG/${T},${w}`, () => tf.scalar((2 * (1 - w)) / M)),
            ),
          );
        }
      } else if (c.loss === 'mse') {
        const diff = n.sub(recon, flatTarget);
        rec = n.mean(n.square(diff), allAxes);
        dOut = n.mul(
          diff,
          this.k(N, `twoInvM/${T}`, () => tf.scalar(2 / M)),
        );
      } else {
        const p = n.clip(recon, k.lo, k.hi);
        const lp = n.log(p);
        const l1p = n.log(n.sub(k.one, p));
        rec = n.neg(n.mean(n.add(n.mul(flatTarget, n.sub(lp, l1p)), l1p), allAxes));
        // tfjs's chain: d/dp = (p − t) / (p(1 − p)) / M, zero where the clip is active (p ≠ recon).
        const inside = n.equal(p, recon);
        const pt = n.sub(p, flatTarget);
        if (outAct === 'sigmoid')
          dzOut = n.select(inside, n.mul(pt, invM), k.zero); // the σ′ = p(1 − p) cancels
        else dOut = n.select(inside, n.mul(n.op('RealDiv', [pt, n.mul(p, n.sub(k.one, p))]), invM), k.zero);
      }

      // Backward through the decoder. With dzOut, the output layer's activation gradient is already applied.
      let decLayers = ssim ? this.dec : this.dec.slice(0, last);
      let dRecon: Tensor;
      if (dzOut && outLayer && outLayer.type !== 'reshape') {
        decLayers = decLayers.map((l, i) => (i === last - 1 ? ({ ...l, act: 'linear' } as Layer) : l));
        dRecon = dzOut;
      } else dRecon = dOut!;
      let dz = this.backward(decLayers, dRecon, W, N, savedD, grads, true)!;

      if (mu && lv && eps && sd) {
        const [hm, hl] = this.heads as Array<Extract<Layer, { type: 'dense' }>>;
        // KL = −½ Σ(1 + lv − μ² − e^lv) per image; objective adds β/P · mean over the batch.
        const e = n.exp(lv);
        const klSum = n.sum(n.sub(n.sub(n.add(lv, k.one), n.square(mu)), e), this.axes(2));
        // −½·β/P/N and β/P/N: step values (a KL warm-up changes β per epoch without a new graph).
        extra = n.mul(klSum, v[nOpt + 1]);
        const cT = v[nOpt + 2];
        const dmu = n.add(dz, n.mul(mu, cT));
        const dlv = n.mul(n.add(n.mul(n.mul(dz, eps), sd), n.mul(n.sub(e, k.one), cT)), k.half);
        grads[hm.kernel] = n.matMul(enc, dmu, true, false);
        grads[hm.bias] = this.biasGrad(dmu);
        grads[hl.kernel] = n.matMul(enc, dlv, true, false);
        grads[hl.bias] = this.biasGrad(dlv);
        dz = n.add(n.matMul(dmu, W[hm.kernel], false, true), n.matMul(dlv, W[hl.kernel], false, true));
      } else if (codeOf(c.kind) === 'sparse') {
        // l1 · mean|z|; tfjs's |z|′ is +1 for z > 0 and −1 otherwise (also at 0).
        extra = n.mul(
          n.mean(n.abs(z), this.axes(z.rank)),
          this.k(0, 'l1', () => tf.scalar(c.l1)),
        );
        const zSize = (z.size / N) * T;
        const g = this.k(N, `l1g/${T}`, () => tf.scalar(c.l1 / zSize));
        dz = n.add(
          dz,
          n.select(
            n.greater(z, k.zero),
            g,
            this.k(N, `l1gNeg/${T}`, () => tf.scalar(-c.l1 / zSize)),
          ),
        );
      }
      // A part's share of the whole batch's mean (the VAE's KL term is one already: its weights are per whole batch).
      const share = (t: Tensor) =>
        T === N
          ? t
          : n.mul(
              t,
              this.k(N, `share/${T}`, () => tf.scalar(N / T)),
            );
      const recLoss = share(rec);
      const loss = extra ? n.add(recLoss, mu ? extra : share(extra)) : recLoss;
      this.backward(this.enc, dz, W, N, savedE, grads, false);
      return { loss: loss as tf.Scalar, grads };
    });
  }

  /** Parts the graph step splits each batch into (threads.ts batchParts: one per core where kernels run on one thread each). */
  parts = batchParts();

  /**
   * Loss and gradients of the batch computed as `parts` independent parts (slices of at least
   * MIN_PART images), each part's gradients already its share of the whole batch's mean, then summed.
   * Inside the graph the parts have no kernel in common until the sums, so TensorFlow runs them side
   * by side, one per core. The models have no layer that mixes images (no batch normalisation), so
   * this is the whole batch's gradient, up to the order of float additions. A VAE's parts take
   * their rows of the batch's ε; its KL weights are per whole batch already.
   */
  splitLossAndGrads(input: Tensor, target: Tensor, values: Tensor[], parts: number): StepResult {
    const N = input.shape[0];
    const sizes = partSizes(N, parts);
    if (sizes.length === 1) return this.lossAndGrads(input, target, 0, values);
    return tf.tidy(() => {
      const rank = input.shape.length;
      const nOpt = values.length - (this.heads.length ? 3 : 0);
      let begin = 0;
      let loss: Tensor | undefined;
      let grads: Tensor[] = [];
      for (const size of sizes) {
        const at = this.k(N, `slice${begin}`, () => tf.tensor1d([begin, ...Array<number>(rank - 1).fill(0)], 'int32'));
        const extent = this.k(N, `extent${size}`, () =>
          tf.tensor1d([size, ...Array<number>(rank - 1).fill(-1)], 'int32'),
        );
        const x = n.slice(input, at, extent);
        let partValues = values;
        if (this.heads.length) {
          const eps = n.slice(
            values[nOpt],
            this.k(N, `slice${begin}r2`, () => tf.tensor1d([begin, 0], 'int32')),
            this.k(N, `extent${size}r2`, () => tf.tensor1d([size, -1], 'int32')),
          );
          partValues = [...values.slice(0, nOpt), eps, ...values.slice(nOpt + 1)];
        }
        const part = this.lossAndGrads(x, input === target ? x : n.slice(target, at, extent), 0, partValues, N);
        loss = loss ? n.add(loss, part.loss) : part.loss;
        grads = grads.length ? grads.map((g, i) => n.add(g, part.grads[i])) : part.grads;
        begin += size;
      }
      return { loss: loss as tf.Scalar, grads };
    });
  }

  /** The batch sizes the run will use (its batch size and a smaller last batch), so the graph step is built once. */
  expectBatchSizes(sizes: number[]): void {
    this.batchSizes = sizes;
  }
  private batchSizes: number[] = [];

  /**
   * One training step: gradients, then the optimizer's in-place update. Returns the loss (caller
   * disposes). Runs as one TensorFlow graph (graph.ts) where tfjs-node can load one, else kernel by
   * kernel; a graph that fails falls back to kernel by kernel for the rest of the run.
   */
  step(input: Tensor, target: Tensor, seed: number): tf.Scalar {
    if (this.graph === undefined) {
      this.graph = this.tryGraph
        ? (GraphStep.create(
            this.optimizer,
            (i, t, values) => this.eagerStep(i, t, 0, values, this.parts),
            (N, seed) => this.stepValues(N, seed),
          ) ?? null)
        : null;
      if (this.tryGraph && !this.graph)
        this.graphRefusal = 'this tfjs-node cannot load TensorFlow graphs (no SavedModel support)';
      // In the graph, TensorFlow's own rewrites (Conv2D + BiasAdd + Relu fused, …) beat oneDNN's
      // kernels on many-channel convolutions; the few-channel ones stay on oneDNN (graph.ts).
      if (this.graph) {
        this.onednn = n.onednn() ? 'few' : 'none';
        this.graph.expected = this.batchSizes;
      }
    }
    if (this.graph) {
      const iterations = this.optimizer.iterations;
      try {
        return this.graph.step(input, target, seed);
      } catch (e) {
        this.graphRefusal = `the graph step failed (${e instanceof Error ? e.message : String(e)})`;
        this.onFallback?.(this.graphRefusal);
        this.optimizer.iterations = iterations;
        this.graph.dispose();
        this.graph = null;
        this.onednn = n.onednn() ? 'all' : 'none';
      }
    }
    return this.eagerStep(input, target, seed);
  }

  /**
   * One step kernel by kernel (also what graph.ts records and replays, with its own `values` and the
   * batch in `parts` parts: see splitLossAndGrads).
   */
  private eagerStep(input: Tensor, target: Tensor, seed: number, values?: Tensor[], parts = 1): tf.Scalar {
    const v = values ?? this.stepValues(input.shape[0], seed);
    try {
      const { loss, grads } =
        parts > 1 ? this.splitLossAndGrads(input, target, v, parts) : this.lossAndGrads(input, target, seed, v);
      this.optimizer.apply(grads, v.slice(0, v.length - (this.heads.length ? 3 : 0)));
      tf.dispose(grads);
      return loss;
    } finally {
      if (!values) tf.dispose(v);
    }
  }

  dispose(): void {
    this.graph?.dispose();
    this.optimizer.dispose();
    for (const m of this.perN.values()) tf.dispose([...m.values()]);
    this.perN.clear();
    tf.dispose(Object.values(this.consts));
  }
}

/** Whether the fast step is allowed (AE_FAST_STEP=0 forces the plain tfjs path, for comparisons). */
export function fastStepEnabled(): boolean {
  return process.env.AE_FAST_STEP !== '0';
}

/** Whether the step may run as one TensorFlow graph (AE_GRAPH_STEP=0 runs it kernel by kernel, for comparisons). */
export function graphStepEnabled(): boolean {
  return process.env.AE_GRAPH_STEP !== '0';
}

/** Smallest part splitLossAndGrads cuts a batch into: below it the kernels are too small to gain from a core of their own. */
export const MIN_PART = 8;

/** Sizes of the parts of a batch of `n` images: at most `parts`, each at least MIN_PART, as even as can be (the first ones one bigger). */
export function partSizes(n: number, parts: number): number[] {
  const k = Math.max(1, Math.min(parts, Math.floor(n / MIN_PART)));
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}
