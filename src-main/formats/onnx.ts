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
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 } as const;

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
    output: string,
    attrs: Record<string, number | number[]> = {},
    floats: string[] = [],
  ): string {
    const attribute = Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v)
        ? { name, type: ATTR.INTS, ints: v }
        : floats.includes(name)
          ? { name, type: ATTR.FLOAT, f: v }
          : { name, type: ATTR.INT, i: v },
    );
    this.nodes.push({ op_type: op, input: inputs, output: [output], name: this.unique(op), attribute });
    return output;
  }
}

export function buildOnnxModel(g: Graph, producerVersion = '0'): Uint8Array {
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
  const model = {
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'autoencoder-studio',
    producer_version: producerVersion,
    graph: { name: g.name, node: b.nodes, initializer: b.initializers, input: inputs, output: outputs },
  };
  const T = ModelProto();
  const err = T.verify(model);
  if (err) throw new Error(`internal error building the ONNX model: ${err}`);
  return T.encode(T.fromObject(model)).finish();
}

export async function exportOnnx(g: Graph, out: string): Promise<ExportResult> {
  const bytes = buildOnnxModel(g);
  return writeFileAtomic(out, (tmp) => fs.writeFileSync(tmp, bytes));
}
