// ONNX (opset 17, IR version 8): the graph as a ModelProto, encoded with protobufjs from the
// vendored onnx.proto. The studio's NHWC layout is kept at the model's inputs and outputs
// ([N,H,W,C] images, [N,D] codes, N symbolic); inside, convolutions run in ONNX's NCHW with
// Transpose nodes inserted only where the layout changes. Each layer maps to:
//   Dense → MatMul (kernel [in, units]) + Add;  Conv2D → Conv;  Conv2DTranspose → ConvTranspose;
//   Flatten → Flatten (on channels-last data, the order tfjs's Dense weights expect);
//   Reshape → Reshape [0, …target] (channels-last);  activations → Relu / Elu / Tanh / Sigmoid /
//   LeakyRelu.
// 'same' padding is TensorFlow's: total = max((out−1)·s + k − in, 0) for a convolution, split
// floor(total/2) before and the rest after (ONNX pads = [top, left, bottom, right]); a transposed
// convolution uses the pads of the convolution it transposes and output_padding for the rest.
import protobuf from 'protobufjs';
import fs from 'node:fs';
import type { Graph, GraphNode, Weight } from './graph';
import { ExportError } from './errors';
import { ONNX_PROTO } from './onnx-proto';
import { writeFileAtomic, type ExportResult } from './output';

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;

let modelType: protobuf.Type | undefined;
function ModelProto(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

const FLOAT = 1;
const INT64 = 7;
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

type Layout = 'nhwc' | 'nchw' | 'flat';
interface Value {
  name: string;
  layout: Layout;
}

/** Permutes an array laid out in `shape` by `perm` (like numpy transpose). */
export function transpose(
  data: Float32Array,
  shape: number[],
  perm: number[],
): { data: Float32Array; shape: number[] } {
  const outShape = perm.map((p) => shape[p]);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(data.length);
  const idx = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < perm.length; k++) src += idx[k] * strides[perm[k]];
    out[o] = data[src];
    for (let k = perm.length - 1; k >= 0; k--) {
      if (++idx[k] < outShape[k]) break;
      idx[k] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/** TensorFlow's padding of a convolution from `inp` to `out` pixels: [before, after]. */
export function tfPads(inp: number, out: number, k: number, s: number, padding: 'same' | 'valid'): [number, number] {
  if (padding === 'valid') return [0, 0];
  const total = Math.max((out - 1) * s + k - inp, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

class Builder {
  nodes: object[] = [];
  initializers: object[] = [];
  private count = 0;

  unique(base: string): string {
    return `${base}__${this.count++}`;
  }

  floatInit(name: string, w: Weight): string {
    const bytes = new Uint8Array(w.data.buffer.slice(w.data.byteOffset, w.data.byteOffset + w.data.byteLength));
    this.initializers.push({ name, dims: w.shape, data_type: FLOAT, raw_data: bytes });
    return name;
  }

  int64Init(name: string, values: number[]): string {
    const arr = BigInt64Array.from(values.map(BigInt));
    this.initializers.push({ name, dims: [values.length], data_type: INT64, raw_data: new Uint8Array(arr.buffer) });
    return name;
  }

  node(
    op: string,
    inputs: string[],
    output: string | string[],
    attrs: Record<string, number | number[] | string> = {},
    floats: string[] = [],
  ): string {
    const attribute = Object.entries(attrs).map(([name, v]) =>
      typeof v === 'string'
        ? { name, type: ATTR.STRING, s: new TextEncoder().encode(v) }
        : Array.isArray(v)
          ? { name, type: ATTR.INTS, ints: v }
          : floats.includes(name)
            ? { name, type: ATTR.FLOAT, f: v }
            : { name, type: ATTR.INT, i: v },
    );
    const outs = Array.isArray(output) ? output : [output];
    this.nodes.push({ op_type: op, input: inputs, output: outs, name: this.unique(op), attribute });
    return outs[0];
  }

  /** A float constant of any shape (row-major values). */
  constant(base: string, data: ArrayLike<number>, shape: number[]): string {
    return this.floatInit(this.unique(base), { data: Float32Array.from(data), shape });
  }
}

/**
 * An inspection run's settings as an ONNX export of the whole autoencoder carries them
 * (engine/inspect/calibration.ts): the graph gains `anomaly_map` [N,H,W] and `score` [N] outputs,
 * and the model's metadata_props the threshold and the settings.
 */
export interface OnnxInspection {
  run: string;
  settings: { map: 'l2' | 'ssim'; smoothSigma: number; topkPercent: number; score: 'mean' | 'max' | 'topk' };
  threshold: { value: number; method: string };
  norm: { h: number; w: number; mean: number[]; std: number[] } | null;
}

/** A normalised Gaussian window, size × size, row-major (engine/metrics.ts gaussianWindow's values). */
function gaussian2d(size: number, sigma: number): number[] {
  const half = (size - 1) / 2;
  const g = Array.from({ length: size }, (_, i) => Math.exp(-((i - half) ** 2) / (2 * sigma * sigma)));
  const s = g.reduce((a, b) => a + b, 0);
  const k = g.map((v) => v / s);
  const w: number[] = [];
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) w.push(k[i] * k[j]);
  return w;
}

/**
 * The studio's anomaly map and image score (engine/inspect/maps.ts) as ONNX nodes, from the input
 * `x` and the reconstruction `rec` (both NCHW [N,C,H,W]): the squared error or 1 − SSIM (11×11
 * Gaussian window, σ 1.5, reflected borders, per channel then averaged), Gaussian smoothing,
 * the per-pixel normalisation, then the mean / max / top-k % mean. Returns the map [N,H,W] and the
 * score [N] value names.
 */
function inspectionNodes(
  b: Builder,
  x: string,
  rec: string,
  shape: [number, number, number],
  ins: OnnxInspection,
): { map: string; score: string } {
  const [h, w, c] = shape;
  const s = ins.settings;
  const scalar = (v: number) => b.constant('const', [v], []);
  const reflectPad = (t: string, p: number) =>
    p > 0
      ? b.node('Pad', [t, b.int64Init(b.unique('pads'), [0, 0, p, p, 0, 0, p, p])], b.unique('pad'), {
          mode: 'reflect',
        })
      : t;
  const filter = (t: string, size: number, sigma: number, channels: number) =>
    b.node(
      'Conv',
      [
        reflectPad(t, (size - 1) / 2),
        b.constant('gauss', Array.from({ length: channels }, () => gaussian2d(size, sigma)).flat(), [
          channels,
          1,
          size,
          size,
        ]),
      ],
      b.unique('filt'),
      {
        kernel_shape: [size, size],
        group: channels,
      },
    );
  let raw: string;
  if (s.map === 'l2') {
    const d = b.node('Sub', [rec, x], b.unique('diff'));
    raw = b.node('ReduceMean', [b.node('Mul', [d, d], b.unique('sq'))], b.unique('l2'), { axes: [1], keepdims: 1 });
  } else {
    const m = Math.min(11, h, w);
    const size = m % 2 === 1 ? m : m - 1;
    const f = (t: string) => filter(t, size, 1.5, c);
    const mul = (a: string, bb: string) => b.node('Mul', [a, bb], b.unique('mul'));
    const add = (a: string, bb: string) => b.node('Add', [a, bb], b.unique('add'));
    const sub = (a: string, bb: string) => b.node('Sub', [a, bb], b.unique('sub'));
    const muA = f(x);
    const muB = f(rec);
    const muA2 = mul(muA, muA);
    const muB2 = mul(muB, muB);
    const muAB = mul(muA, muB);
    const sA = sub(f(mul(x, x)), muA2);
    const sB = sub(f(mul(rec, rec)), muB2);
    const sAB = sub(f(mul(x, rec)), muAB);
    const [two, c1, c2] = [scalar(2), scalar(0.01 ** 2), scalar(0.03 ** 2)];
    const num = mul(add(mul(two, muAB), c1), add(mul(two, sAB), c2));
    const den = mul(add(add(muA2, muB2), c1), add(add(sA, sB), c2));
    const ssim = b.node('Div', [num, den], b.unique('ssim'));
    raw = sub(scalar(1), b.node('ReduceMean', [ssim], b.unique('ssim_mean'), { axes: [1], keepdims: 1 }));
  }
  let m = raw;
  if (s.smoothSigma > 0) {
    const half = Math.max(1, Math.min(Math.ceil(3 * s.smoothSigma), h - 1, w - 1));
    m = filter(m, 2 * half + 1, s.smoothSigma, 1);
  }
  if (ins.norm) {
    if (ins.norm.h !== h || ins.norm.w !== w)
      throw new ExportError(
        `The inspection normalisation was measured on ${ins.norm.h}×${ins.norm.w} maps; this model's are ${h}×${w}.`,
        { format: 'onnx' },
      );
    const eps = Math.max(1e-6, (0.1 * ins.norm.std.reduce((a, v) => a + v, 0)) / Math.max(1, ins.norm.std.length));
    m = b.node('Sub', [m, b.constant('norm_mean', ins.norm.mean, [1, 1, h, w])], b.unique('centred'));
    m = b.node(
      'Div',
      [
        m,
        b.constant(
          'norm_std',
          ins.norm.std.map((v) => v + eps),
          [1, 1, h, w],
        ),
      ],
      b.unique('normalised'),
    );
  }
  const map = b.node('Reshape', [m, b.int64Init(b.unique('map_shape'), [0, h, w])], 'anomaly_map');
  const flat = b.node('Reshape', [m, b.int64Init(b.unique('flat_shape'), [0, h * w])], b.unique('flat'));
  let score: string;
  if (s.score === 'mean') score = b.node('ReduceMean', [flat], 'score', { axes: [1], keepdims: 0 });
  else if (s.score === 'max') score = b.node('ReduceMax', [flat], 'score', { axes: [1], keepdims: 0 });
  else {
    const k = Math.max(1, Math.min(h * w, Math.round((h * w * s.topkPercent) / 100)));
    const top = b.node(
      'TopK',
      [flat, b.int64Init(b.unique('k'), [k])],
      [b.unique('top_values'), b.unique('top_indices')],
      { axis: 1 },
    );
    score = b.node('ReduceMean', [top], 'score', { axes: [1], keepdims: 0 });
  }
  return { map, score };
}

/** `sampler`: the run's chosen sampler (name and fitted parameters), as JSON in metadata_props' `autoencoder_studio_sampler`. */
export function buildOnnxModel(
  g: Graph,
  producerVersion = '0',
  inspection?: OnnxInspection,
  sampler?: unknown,
): Uint8Array {
  const b = new Builder();
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const values = new Map<string, Value>();
  const fail = (n: GraphNode, why: string): never => {
    throw new ExportError(`ONNX export cannot express layer '${n.name}' (${n.op}): ${why}.`, {
      format: 'onnx',
      layer: n.name,
      className: n.op,
    });
  };
  const layoutOf = (shape: Array<number | null>): Layout =>
    shape.length === 4 ? 'nhwc' : shape.length === 2 ? 'flat' : 'flat';
  const cache = new Map<string, string>();
  const as = (v: Value, want: 'nhwc' | 'nchw'): string => {
    if (v.layout === want || v.layout === 'flat') return v.name;
    const key = `${v.name}->${want}`;
    if (!cache.has(key))
      cache.set(
        key,
        b.node('Transpose', [v.name], b.unique(`${v.name}_${want}`), {
          perm: want === 'nchw' ? [0, 3, 1, 2] : [0, 2, 3, 1],
        }),
      );
    return cache.get(key)!;
  };
  const activate = (n: GraphNode, x: string): string => {
    switch (n.activation) {
      case 'linear':
        return x;
      case 'relu':
        return b.node('Relu', [x], b.unique(`${n.name}_relu`));
      case 'elu':
        return b.node('Elu', [x], b.unique(`${n.name}_elu`), { alpha: 1 }, ['alpha']);
      case 'tanh':
        return b.node('Tanh', [x], b.unique(`${n.name}_tanh`));
      case 'sigmoid':
        return b.node('Sigmoid', [x], b.unique(`${n.name}_sigmoid`));
    }
  };
  const valueInfo = (name: string, shape: Array<number | null>) => ({
    name,
    type: {
      tensor_type: {
        elem_type: FLOAT,
        shape: { dim: shape.map((d) => (d === null ? { dim_param: 'N' } : { dim_value: d })) },
      },
    },
  });

  for (const n of g.nodes) {
    const input = n.inputs.length ? values.get(n.inputs[0])! : undefined;
    let out: Value;
    switch (n.op) {
      case 'InputLayer':
        if (n.shape.length !== 4 && n.shape.length !== 2) fail(n, `inputs of rank ${n.shape.length} are not supported`);
        out = { name: n.name, layout: layoutOf(n.shape) };
        break;
      case 'Dense': {
        const y = b.node(
          'MatMul',
          [as(input!, 'nhwc'), b.floatInit(`${n.name}/kernel`, n.kernel!)],
          b.unique(`${n.name}_matmul`),
        );
        const z = n.bias ? b.node('Add', [y, b.floatInit(`${n.name}/bias`, n.bias)], b.unique(`${n.name}_add`)) : y;
        out = { name: activate(n, z), layout: 'flat' };
        break;
      }
      case 'Conv2D':
      case 'Conv2DTranspose': {
        const inS = n.inShape as number[];
        const outS = n.shape as number[];
        if (inS.length !== 4) fail(n, 'only 2-D convolutions on [N,H,W,C] data are supported');
        const [kh, kw] = n.kernelSize!;
        const [sh, sw] = n.strides!;
        const transposed = n.op === 'Conv2DTranspose';
        // For a transposed convolution, the pads are those of the forward convolution out → in.
        const [pt, pb] = transposed
          ? tfPads(outS[1], inS[1], kh, sh, n.padding!)
          : tfPads(inS[1], outS[1], kh, sh, n.padding!);
        const [pl, pr] = transposed
          ? tfPads(outS[2], inS[2], kw, sw, n.padding!)
          : tfPads(inS[2], outS[2], kw, sw, n.padding!);
        const attrs: Record<string, number[]> = {
          kernel_shape: [kh, kw],
          strides: [sh, sw],
          pads: [pt, pl, pb, pr],
          dilations: [1, 1],
        };
        if (transposed) {
          const op = [outS[1] - (sh * (inS[1] - 1) + kh - pt - pb), outS[2] - (sw * (inS[2] - 1) + kw - pl - pr)];
          if (op.some((v, i) => v < 0 || v >= [sh, sw][i]))
            fail(n, `no ONNX padding gives its ${outS[1]}×${outS[2]} output from ${inS[1]}×${inS[2]}`);
          attrs.output_padding = op;
        } else {
          const got = [Math.floor((inS[1] + pt + pb - kh) / sh) + 1, Math.floor((inS[2] + pl + pr - kw) / sw) + 1];
          if (got[0] !== outS[1] || got[1] !== outS[2])
            fail(n, `its padding does not give the ${outS[1]}×${outS[2]} output tfjs computes`);
        }
        // tfjs kernels: Conv2D [kh,kw,in,out] → ONNX [out,in,kh,kw]; Conv2DTranspose [kh,kw,out,in] → ONNX [in,out,kh,kw]: the same permutation.
        const w = transpose(n.kernel!.data, n.kernel!.shape, [3, 2, 0, 1]);
        const ins = [as(input!, 'nchw'), b.floatInit(`${n.name}/kernel`, w)];
        if (n.bias) ins.push(b.floatInit(`${n.name}/bias`, n.bias));
        const y = b.node(transposed ? 'ConvTranspose' : 'Conv', ins, b.unique(n.name), attrs);
        out = { name: activate(n, y), layout: 'nchw' };
        break;
      }
      case 'Flatten':
        out = { name: b.node('Flatten', [as(input!, 'nhwc')], b.unique(n.name), { axis: 1 }), layout: 'flat' };
        break;
      case 'Reshape': {
        const target = n.targetShape!;
        if (target.length !== 3 && target.length !== 1)
          fail(n, `a reshape to rank ${target.length + 1} is not supported`);
        const shape = b.int64Init(`${n.name}/shape`, [0, ...target]);
        out = {
          name: b.node('Reshape', [as(input!, 'nhwc'), shape], b.unique(n.name)),
          layout: target.length === 3 ? 'nhwc' : 'flat',
        };
        break;
      }
      case 'Activation':
        out = { name: activate(n, input!.name), layout: input!.layout };
        break;
      case 'LeakyReLU':
        out = {
          name: b.node('LeakyRelu', [input!.name], b.unique(n.name), { alpha: n.alpha! }, ['alpha']),
          layout: input!.layout,
        };
        break;
    }
    values.set(n.name, out!);
  }

  // Graph outputs named after their layers, in the studio's layout.
  const outputs = g.outputs.map((name) => {
    const v = values.get(name)!;
    const src = as(v, 'nhwc');
    b.node('Identity', [src], name);
    return valueInfo(name, byName.get(name)!.shape);
  });
  const inputs = g.inputs.map((name) => valueInfo(name, byName.get(name)!.shape));
  const metadata: Array<{ key: string; value: string }> = [];
  if (inspection) {
    const inShape = byName.get(g.inputs[0])!.shape;
    const outShape = byName.get(g.outputs[0])!.shape;
    if (g.inputs.length !== 1 || g.outputs.length !== 1 || inShape.length !== 4 || inShape.join() !== outShape.join())
      throw new ExportError(
        'Only an export of the whole autoencoder (pictures in, pictures out) can compute the anomaly map and score.',
        { format: 'onnx' },
      );
    const shape = inShape.slice(1) as [number, number, number];
    inspectionNodes(b, as(values.get(g.inputs[0])!, 'nchw'), as(values.get(g.outputs[0])!, 'nchw'), shape, inspection);
    outputs.push(valueInfo('anomaly_map', [null, shape[0], shape[1]]), valueInfo('score', [null]));
    metadata.push(
      { key: 'autoencoder_studio_threshold', value: String(inspection.threshold.value) },
      { key: 'autoencoder_studio_verdict', value: 'score >= threshold: defective' },
      {
        key: 'autoencoder_studio_inspection',
        value: JSON.stringify({ run: inspection.run, settings: inspection.settings, threshold: inspection.threshold }),
      },
    );
  }
  if (sampler) metadata.push({ key: 'autoencoder_studio_sampler', value: JSON.stringify(sampler) });
  const model = {
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'autoencoder-studio',
    producer_version: producerVersion,
    graph: { name: g.name, node: b.nodes, initializer: b.initializers, input: inputs, output: outputs },
    ...(metadata.length ? { metadata_props: metadata } : {}),
  };
  const T = ModelProto();
  const err = T.verify(model);
  if (err) throw new Error(`internal error building the ONNX model: ${err}`);
  return T.encode(T.fromObject(model)).finish();
}

export async function exportOnnx(
  g: Graph,
  out: string,
  inspection?: OnnxInspection,
  sampler?: unknown,
): Promise<ExportResult> {
  const bytes = buildOnnxModel(g, '0', inspection, sampler);
  return writeFileAtomic(out, (tmp) => fs.writeFileSync(tmp, bytes));
}

/** An ONNX model's metadata_props as a plain record (what the studio's exports carry: threshold, inspection, sampler). */
export function onnxMetadata(bytes: Uint8Array): Record<string, string> {
  const m = ModelProto().decode(bytes) as unknown as { metadata_props?: Array<{ key: string; value: string }> };
  return Object.fromEntries((m.metadata_props ?? []).map((e) => [e.key, e.value]));
}
