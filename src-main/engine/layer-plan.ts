// The network a config builds, described once: every layer with
// weights, in the order models.ts builds them, with its tfjs kernel shape and the PyTorch module
// that holds the same weights. Pure (no tfjs): the job exporter writes it into job.json for
// train.py (which builds its model from it, layer by layer), and the importer checks the
// safetensors it reads against it before anything large is allocated.
//
// Layouts (tfjs → PyTorch):
//  - Dense            kernel [in, out]          → Linear.weight [out, in]
//  - Conv2D           kernel [k, k, in, out]    → Conv2d.weight [out, in, k, k]          (OIHW ↔ HWIO)
//  - Conv2DTranspose  kernel [k, k, out, in]    → ConvTranspose2d.weight [in, out, k, k]
//  - The dense layer after the encoder's Flatten reads tfjs's NHWC order (y, x, c); PyTorch flattens
//    NCHW (c, y, x): its input columns are permuted. The decoder's first dense layer feeds a reshape
//    to NHWC in tfjs and to NCHW in PyTorch: its output rows (and bias) are permuted.
//  - 'same' padding: tfjs pads a stride-2 convolution asymmetrically (nothing before, the rest after
//    for k = 3); train.py pads explicitly and crops transposed convolutions the way TensorFlow does.
// Any `kernelSize` the config allows (3 or 5) and any number of conv stages (`hidden` = filters per
// stride-2 stage) are planned.
import { isConv, isVae, type ModelConfig } from './config';

export type Activation = 'relu' | 'elu' | 'tanh' | 'sigmoid' | 'leaky-relu' | 'linear';

export interface DenseOp {
  op: 'dense';
  /** tfjs layer name (models.ts); also the PyTorch module's name inside its half. */
  name: string;
  in: number;
  out: number;
  act: Activation;
  /** Set on the dense layer right after the encoder's Flatten of a conv map [h, w, c]: PyTorch's input columns are NCHW-ordered. */
  permuteIn?: [number, number, number];
  /** Set on the decoder's dense layer that feeds a reshape to a conv map [h, w, c]: PyTorch's output rows are NCHW-ordered. */
  permuteOut?: [number, number, number];
}
export interface ConvOp {
  op: 'conv' | 'convT';
  name: string;
  in: number;
  out: number;
  kernel: number;
  stride: number;
  act: Activation;
  /** Spatial size of the input map [h, w]. */
  inSize: [number, number];
  /** Spatial size of the output map [h, w]. */
  outSize: [number, number];
}
export type WeightOp = DenseOp | ConvOp;
/** Layers without weights: flatten (NCHW in PyTorch), reshape to a conv map [c, h, w] (PyTorch order). */
export type ShapeOp = { op: 'flatten' } | { op: 'reshape'; chw: [number, number, number] };
export type PlanOp = WeightOp | ShapeOp;

export type JobPlan = {
  inputShape: [number, number, number];
  latentDim: number;
  vae: boolean;
  /** Encoder trunk, then its heads ([z_mean, z_log_var] for a VAE, [code_dense] otherwise). */
  encoder: PlanOp[];
  heads: DenseOp[];
  decoder: PlanOp[];
  /** True when the trunk starts with a convolution (images go in as NCHW), false for flat dense input. */
  convInput: boolean;
  /** True when the decoder ends with a transposed convolution (NCHW out), false for a dense layer + reshape. */
  convOutput: boolean;
  parameters: number;
};

export interface PlanWeight {
  /** PyTorch state_dict key, e.g. `encoder.enc_conv1.weight`. */
  key: string;
  /** tfjs weight name, e.g. `enc_conv1/kernel`. */
  tfName: string;
  /** Shape in PyTorch's layout. */
  shape: number[];
  /** Shape in tfjs's layout. */
  tfShape: number[];
  layer: WeightOp;
  half: 'encoder' | 'decoder';
  role: 'kernel' | 'bias';
}

/** The largest model the studio builds or reads: 256 M parameters (1 GiB of float32). */
export const MAX_PARAMETERS = 256 * 2 ** 20;

export class PlanError extends Error {
  override readonly name = 'PlanError';
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** The layers `config` builds (mirrors models.ts). Throws PlanError for a model too large to hold. */
export function jobPlan(config: ModelConfig): JobPlan {
  const [h, w, c] = config.inputShape;
  const k: number = config.kernelSize;
  if (k !== 3 && k !== 5) throw new PlanError(`kernelSize ${k} is not supported (3 or 5)`); // a config that skipped validateConfig
  const act = config.activation as Activation;
  const hidden = config.hidden;
  const vae = isVae(config.kind);
  const encoder: PlanOp[] = [];
  const decoder: PlanOp[] = [];
  let heads: DenseOp[];
  let flat: number;
  let lastMap: [number, number, number] | undefined;
  if (isConv(config.kind)) {
    let [sh, sw, ch] = [h, w, c];
    hidden.forEach((filters, i) => {
      const out: [number, number] = [Math.ceil(sh / 2), Math.ceil(sw / 2)];
      encoder.push({
        op: 'conv',
        name: `enc_conv${i + 1}`,
        in: ch,
        out: filters,
        kernel: k,
        stride: 2,
        act,
        inSize: [sh, sw],
        outSize: out,
      });
      [sh, sw, ch] = [out[0], out[1], filters];
    });
    encoder.push({ op: 'flatten' });
    lastMap = [sh, sw, ch];
    flat = sh * sw * ch;
  } else {
    encoder.push({ op: 'flatten' });
    let prev = h * w * c;
    hidden.forEach((units, i) => {
      encoder.push({ op: 'dense', name: `enc_h${i + 1}_dense`, in: prev, out: units, act });
      prev = units;
    });
    flat = prev;
  }
  const permuteIn = lastMap ? { permuteIn: lastMap } : {};
  if (vae) {
    heads = [
      { op: 'dense', name: 'z_mean', in: flat, out: config.latentDim, act: 'linear', ...permuteIn },
      { op: 'dense', name: 'z_log_var', in: flat, out: config.latentDim, act: 'linear', ...permuteIn },
    ];
  } else {
    heads = [
      { op: 'dense', name: 'code_dense', in: flat, out: config.latentDim, act: lastMap ? 'linear' : act, ...permuteIn },
    ];
  }
  const out = config.outputActivation as Activation;
  if (lastMap) {
    const [qh, qw, qc] = lastMap;
    decoder.push({
      op: 'dense',
      name: 'dec_in_dense',
      in: config.latentDim,
      out: qh * qw * qc,
      act,
      permuteOut: lastMap,
    });
    decoder.push({ op: 'reshape', chw: [qc, qh, qw] });
    // mirror of the encoder: one transposed conv per stage back to the image
    const back = [...hidden].reverse().slice(1);
    let [sh, sw, prev] = [qh, qw, qc];
    back.forEach((filters, i) => {
      decoder.push({
        op: 'convT',
        name: `dec_convt${i + 1}`,
        in: prev,
        out: filters,
        kernel: k,
        stride: 2,
        act,
        inSize: [sh, sw],
        outSize: [sh * 2, sw * 2],
      });
      [sh, sw, prev] = [sh * 2, sw * 2, filters];
    });
    decoder.push({
      op: 'convT',
      name: `dec_convt${hidden.length}`,
      in: prev,
      out: c,
      kernel: k,
      stride: 2,
      act: out,
      inSize: [sh, sw],
      outSize: [sh * 2, sw * 2],
    });
    if (sh * 2 !== h || sw * 2 !== w)
      throw new PlanError(
        `a ${hidden.length}-stage convolutional model needs height and width divisible by ${2 ** hidden.length}; got ${h}×${w}`,
      );
  } else {
    let prev = config.latentDim;
    [...hidden].reverse().forEach((units, i) => {
      decoder.push({ op: 'dense', name: `dec_h${i + 1}_dense`, in: prev, out: units, act });
      prev = units;
    });
    decoder.push({ op: 'dense', name: 'dec_out_dense', in: prev, out: h * w * c, act: out });
  }
  const plan: JobPlan = {
    inputShape: [h, w, c],
    latentDim: config.latentDim,
    vae,
    encoder,
    heads,
    decoder,
    convInput: !!lastMap,
    convOutput: !!lastMap,
    parameters: 0,
  };
  plan.parameters = planWeights(plan).reduce((s, x) => s + size(x.shape), 0);
  if (plan.parameters > MAX_PARAMETERS) {
    throw new PlanError(
      `this model would have ${plan.parameters.toLocaleString('en-US')} parameters; the studio holds at most ${MAX_PARAMETERS.toLocaleString('en-US')} (1 GiB)`,
    );
  }
  return plan;
}

const isWeightOp = (o: PlanOp): o is WeightOp => o.op === 'dense' || o.op === 'conv' || o.op === 'convT';

/** Every weight tensor of the plan in the order of the model's trainable weights (encoder, then decoder). */
export function planWeights(plan: JobPlan): PlanWeight[] {
  const out: PlanWeight[] = [];
  const add = (half: 'encoder' | 'decoder', l: WeightOp) => {
    const kernel =
      l.op === 'dense'
        ? { shape: [l.out, l.in], tfShape: [l.in, l.out] }
        : l.op === 'conv'
          ? { shape: [l.out, l.in, l.kernel, l.kernel], tfShape: [l.kernel, l.kernel, l.in, l.out] }
          : { shape: [l.in, l.out, l.kernel, l.kernel], tfShape: [l.kernel, l.kernel, l.out, l.in] };
    out.push({
      key: `${half}.${l.name}.weight`,
      tfName: `${l.name}/kernel`,
      ...kernel,
      layer: l,
      half,
      role: 'kernel',
    });
    out.push({
      key: `${half}.${l.name}.bias`,
      tfName: `${l.name}/bias`,
      shape: [l.out],
      tfShape: [l.out],
      layer: l,
      half,
      role: 'bias',
    });
  };
  for (const l of [...plan.encoder, ...plan.heads]) if (isWeightOp(l)) add('encoder', l);
  for (const l of plan.decoder) if (isWeightOp(l)) add('decoder', l);
  return out;
}

/** NHWC flat index of (y, x, c) → NCHW flat index, for a map [h, w, c]. */
function nchwIndex(map: [number, number, number]): Int32Array {
  const [h, w, c] = map;
  const p = new Int32Array(h * w * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) p[(y * w + x) * c + ch] = (ch * h + y) * w + x;
  return p;
}

/**
 * For one weight: `perm[i]` is the PyTorch flat index of tfjs's flat element i (the two hold the
 * same numbers in different orders). Optimizer slots have their variable's shape and use the same map.
 */
export function weightPermutation(wt: PlanWeight): Int32Array {
  const l = wt.layer;
  if (wt.role === 'bias') {
    if (l.op === 'dense' && l.permuteOut) return nchwIndex(l.permuteOut);
    return identity(l.out);
  }
  const perm = new Int32Array(size(wt.shape));
  if (l.op === 'dense') {
    const rows = l.permuteIn ? nchwIndex(l.permuteIn) : undefined;
    const cols = l.permuteOut ? nchwIndex(l.permuteOut) : undefined;
    for (let i = 0; i < l.in; i++) {
      const ti = rows ? rows[i] : i;
      for (let o = 0; o < l.out; o++) perm[i * l.out + o] = (cols ? cols[o] : o) * l.in + ti;
    }
    return perm;
  }
  const k = l.kernel;
  // tfjs [ky, kx, a, b] with (a, b) = (in, out) for conv and (out, in) for convT; PyTorch [b, a, ky, kx] for conv, [in, out, ky, kx] = [b, a, ky, kx] for convT
  const [A, B] = l.op === 'conv' ? [l.in, l.out] : [l.out, l.in];
  for (let ky = 0; ky < k; ky++) {
    for (let kx = 0; kx < k; kx++) {
      for (let a = 0; a < A; a++)
        for (let b = 0; b < B; b++) perm[((ky * k + kx) * A + a) * B + b] = ((b * A + a) * k + ky) * k + kx;
    }
  }
  return perm;
}

function identity(n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return p;
}

/** tfjs-ordered values → PyTorch-ordered values. */
export function toTorchLayout(wt: PlanWeight, tfValues: Float32Array): Float32Array {
  const perm = weightPermutation(wt);
  if (tfValues.length !== perm.length)
    throw new PlanError(`${wt.tfName} has ${tfValues.length} values; ${wt.key} needs ${perm.length}`);
  const out = new Float32Array(perm.length);
  for (let i = 0; i < perm.length; i++) out[perm[i]] = tfValues[i];
  return out;
}

/** PyTorch-ordered values → tfjs-ordered values. */
export function toTfLayout(wt: PlanWeight, torchValues: Float32Array): Float32Array {
  const perm = weightPermutation(wt);
  if (torchValues.length !== perm.length)
    throw new PlanError(`${wt.key} has ${torchValues.length} values; ${wt.tfName} needs ${perm.length}`);
  const out = new Float32Array(perm.length);
  for (let i = 0; i < perm.length; i++) out[i] = torchValues[perm[i]];
  return out;
}
