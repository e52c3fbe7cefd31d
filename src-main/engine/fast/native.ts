// Direct calls into TensorFlow's own kernels through tfjs-node's native backend.
// `NodeJSKernelBackend.executeSingleOutput(name, attrs, inputs)` runs any TensorFlow op by name as
// one eager kernel; the results are ordinary tfjs tensors (tracked by tf.tidy / tf.memory()).
// This skips tfjs's per-op bookkeeping and lets the training step use TensorFlow's fused gradient
// kernels (ReluGrad, SigmoidGrad, BiasAddGrad, Conv2DBackprop*) and its one-kernel optimizer
// updates (ResourceApplyAdam & co. on resource variables) instead of chains of small tfjs ops.
import { tf } from '../tf';

type Tensor = tf.Tensor;

interface Binding {
  TF_ATTR_STRING: number;
  TF_ATTR_INT: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_TYPE: number;
  TF_ATTR_SHAPE: number;
  TF_FLOAT: number;
  TF_INT32: number;
}
interface NodeBackend {
  binding: Binding;
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: Tensor[]): Tensor;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: Tensor[], numOutputs: number): Tensor[];
}
export interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

let cached: NodeBackend | undefined;
/** The native backend, or undefined when tfjs is not running on tfjs-node's TensorFlow binding. */
export function nodeBackend(): NodeBackend | undefined {
  if (cached && tf.backend() === (cached as unknown)) return cached;
  const be = tf.backend() as unknown as Partial<NodeBackend>;
  if (tf.getBackend() !== 'tensorflow' || typeof be.executeSingleOutput !== 'function' || !be.binding) return undefined;
  cached = be as NodeBackend;
  return cached;
}
function be(): NodeBackend {
  const b = nodeBackend();
  if (!b) throw new Error('The native TensorFlow backend (tfjs-node) is not active.');
  return b;
}

// Attribute objects: the binding's enum values are fixed, so the common ones are made once.
let T: OpAttr | undefined;
const attr = {
  T: (): OpAttr => (T ??= { name: 'T', type: be().binding.TF_ATTR_TYPE, value: be().binding.TF_FLOAT }),
  type: (name: string, int = false): OpAttr => ({
    name,
    type: be().binding.TF_ATTR_TYPE,
    value: int ? be().binding.TF_INT32 : be().binding.TF_FLOAT,
  }),
  bool: (name: string, value: boolean): OpAttr => ({ name, type: be().binding.TF_ATTR_BOOL, value }),
  int: (name: string, value: number | number[]): OpAttr => ({ name, type: be().binding.TF_ATTR_INT, value }),
  float: (name: string, value: number): OpAttr => ({ name, type: be().binding.TF_ATTR_FLOAT, value }),
  str: (name: string, value: string): OpAttr => ({ name, type: be().binding.TF_ATTR_STRING, value }),
  shape: (name: string, value: number[]): OpAttr => ({ name, type: be().binding.TF_ATTR_SHAPE, value }),
};
const memo = <A extends unknown[]>(make: () => A) => {
  let v: A | undefined;
  return () => (v ??= make());
};
const mmAttrs = [false, true].map((ta) =>
  [false, true].map((tb) => memo(() => [attr.bool('transpose_a', ta), attr.bool('transpose_b', tb)])),
);
const nhwc = memo(() => [attr.str('data_format', 'NHWC')]);
const tidxAttrs = [
  memo(() => [attr.type('Tidx', true), attr.bool('keep_dims', false)]),
  memo(() => [attr.type('Tidx', true), attr.bool('keep_dims', true)]),
];
const tshape = memo(() => [attr.type('Tshape', true)]);
const sliceAttrs = memo(() => [attr.type('Index', true)]);

/**
 * Every kernel the training step runs goes through `exec`: eagerly by default, or through an
 * executor installed with `withExecutor` (graph.ts records the step as a TensorFlow graph with it).
 */
export type Executor = (name: string, attrs: OpAttr[], inputs: Tensor[], numOutputs: number) => Tensor[];
let executor: Executor | undefined;
export function withExecutor<T>(e: Executor, f: () => T): T {
  const prev = executor;
  executor = e;
  try {
    return f();
  } finally {
    executor = prev;
  }
}
function exec(name: string, attrs: OpAttr[], inputs: Tensor[], numOutputs: number): Tensor[] {
  return executor ? executor(name, attrs, inputs, numOutputs) : execEager(name, attrs, inputs, numOutputs);
}
/** Runs one kernel now, whatever executor is installed (what a recording executor uses to run it). */
export function execEager(name: string, attrs: OpAttr[], inputs: Tensor[], numOutputs: number): Tensor[] {
  if (numOutputs === 1) return [be().executeSingleOutput(name, attrs, inputs)];
  return be().executeMultipleOutputs(name, attrs, inputs, numOutputs);
}
const exec1 = (name: string, attrs: OpAttr[], inputs: Tensor[]) => exec(name, attrs, inputs, 1)[0];

/** Runs TensorFlow op `name` (float32, attribute T) on `inputs`: one kernel, one output. */
export function op(name: string, inputs: Tensor[], attrs: OpAttr[] = []): Tensor {
  return exec1(name, [attr.T(), ...attrs], inputs);
}

// ---- elementwise and reductions ----------------------------------------------------------------
export const add = (a: Tensor, b: Tensor) => op('AddV2', [a, b]);
export const sub = (a: Tensor, b: Tensor) => op('Sub', [a, b]);
export const mul = (a: Tensor, b: Tensor) => op('Mul', [a, b]);
export const square = (a: Tensor) => op('Square', [a]);
export const exp = (a: Tensor) => op('Exp', [a]);
export const log = (a: Tensor) => op('Log', [a]);
export const neg = (a: Tensor) => op('Neg', [a]);
export const abs = (a: Tensor) => op('Abs', [a]);
export const sigmoid = (a: Tensor) => op('Sigmoid', [a]);
export const relu = (a: Tensor) => op('Relu', [a]);
export const tanh = (a: Tensor) => op('Tanh', [a]);
export const elu = (a: Tensor) => op('Elu', [a]);
export const leakyRelu = (a: Tensor, alpha: number) => op('LeakyRelu', [a], [attr.float('alpha', alpha)]);
export const clip = (a: Tensor, lo: Tensor, hi: Tensor) => op('ClipByValue', [a, lo, hi]);
export const select = (cond: Tensor, a: Tensor, b: Tensor) => op('SelectV2', [cond, a, b]);
export const equal = (a: Tensor, b: Tensor) =>
  exec1('Equal', [attr.T(), attr.bool('incompatible_shape_error', true)], [a, b]);
export const greater = (a: Tensor, b: Tensor) => exec1('Greater', [attr.T()], [a, b]);
/** Sum or mean over `axes` (an int32 tensor, kept by the caller). */
export const sum = (a: Tensor, axes: Tensor, keepDims = false) => op('Sum', [a, axes], tidxAttrs[+keepDims]());
export const mean = (a: Tensor, axes: Tensor, keepDims = false) => op('Mean', [a, axes], tidxAttrs[+keepDims]());
/** The block of `a` at `begin` of `size` (int32 tensors, kept by the caller; −1 = to the end). */
export const slice = (a: Tensor, begin: Tensor, size: Tensor) => op('Slice', [a, begin, size], sliceAttrs());
/** Reshape to `shape` (an int32 tensor, kept by the caller). */
export const reshape = (a: Tensor, shape: Tensor) => op('Reshape', [a, shape], tshape());
const concatAttrs = new Map<number, () => OpAttr[]>();
/** The tensors joined along `axis` (an int32 scalar tensor, kept by the caller). */
export const concat = (parts: Tensor[], axis: Tensor) => {
  let a = concatAttrs.get(parts.length);
  if (!a) concatAttrs.set(parts.length, (a = memo(() => [attr.int('N', parts.length), attr.type('Tidx', true)])));
  return op('ConcatV2', [...parts, axis], a());
};
/** `a` cut into `count` equal parts along `axis` (an int32 scalar tensor, kept by the caller). */
export const split = (a: Tensor, axis: Tensor, count: number) =>
  exec('Split', [attr.T(), attr.int('num_split', count)], [axis, a], count);
const bmmAttrs = [false, true].map((adj) => memo(() => [attr.bool('adj_x', adj), attr.bool('adj_y', false)]));
/** a · b batched over b's leading axes (a broadcast); `adjointA` uses aᵀ. */
export const batchMatMul = (a: Tensor, b: Tensor, adjointA = false) =>
  op('BatchMatMulV2', [a, b], bmmAttrs[+adjointA]());

// ---- activation gradients: TensorFlow's own one-kernel versions --------------------------------
/** dy · (x > 0), from the activation's output (y > 0 ⇔ x > 0). */
export const reluGrad = (dy: Tensor, y: Tensor) => op('ReluGrad', [dy, y]);
/** dy · y · (1 − y). */
export const sigmoidGrad = (y: Tensor, dy: Tensor) => op('SigmoidGrad', [y, dy]);
/** dy · (1 − y²). */
export const tanhGrad = (y: Tensor, dy: Tensor) => op('TanhGrad', [y, dy]);
/** dy · (y > 0 ? 1 : y + 1). */
export const eluGrad = (dy: Tensor, y: Tensor) => op('EluGrad', [dy, y]);
/** dy · (x > 0 ? 1 : α), from the input x. */
export const leakyReluGrad = (dy: Tensor, x: Tensor, alpha: number) =>
  op('LeakyReluGrad', [dy, x], [attr.float('alpha', alpha)]);

// ---- dense and convolution ---------------------------------------------------------------------
export const matMul = (a: Tensor, b: Tensor, transposeA = false, transposeB = false) =>
  op('MatMul', [a, b], mmAttrs[+transposeA][+transposeB]());
export const biasAdd = (x: Tensor, bias: Tensor) => op('BiasAdd', [x, bias], nhwc());
/** Σ of dy over every axis but the last: the bias gradient. */
export const biasAddGrad = (dy: Tensor) => op('BiasAddGrad', [dy], nhwc());

export interface ConvSpec {
  strides: [number, number];
  padding: 'SAME' | 'VALID';
}
const convAttrs = (s: ConvSpec): OpAttr[] => [
  attr.int('strides', [1, s.strides[0], s.strides[1], 1]),
  attr.str('padding', s.padding),
  attr.str('data_format', 'NHWC'),
  attr.int('dilations', [1, 1, 1, 1]),
];
export const conv2d = (x: Tensor, filter: Tensor, s: ConvSpec) => op('Conv2D', [x, filter], convAttrs(s));
/** The gradient of conv2d with respect to its input (also the forward pass of a transposed conv). */
export const conv2dBackpropInput = (inputSizes: Tensor, filter: Tensor, dy: Tensor, s: ConvSpec) =>
  op('Conv2DBackpropInput', [inputSizes, filter, dy], convAttrs(s));
export const conv2dBackpropFilter = (x: Tensor, filterSizes: Tensor, dy: Tensor, s: ConvSpec) =>
  op('Conv2DBackpropFilter', [x, filterSizes, dy], convAttrs(s));

// ---- resource variables and TensorFlow's optimizer kernels -------------------------------------
// TensorFlow's "anonymous" shared name: the variable lives as long as its handle tensor (checked:
// creating and dropping 200 × 4 MB variables this way does not grow RSS).
const ANONYMOUS = 'cd2c89b7-88b7-44c8-ad83-06c2a9158347';

/** A TensorFlow resource variable holding a copy of `init` (float32). Dispose the handle to free it. */
export function resourceVariable(init: Tensor): Tensor {
  const b = be();
  const h = b.executeSingleOutput(
    'VarHandleOp',
    [
      attr.str('container', ''),
      attr.str('shared_name', ANONYMOUS),
      attr.type('dtype'),
      attr.shape('shape', init.shape),
    ],
    [],
  );
  assignVariable(h, init);
  return h;
}
export function assignVariable(handle: Tensor, value: Tensor): void {
  exec('AssignVariableOp', [attr.type('dtype')], [handle, value], 0);
}
export function readVariable(handle: Tensor): Tensor {
  return exec1('ReadVariableOp', [attr.type('dtype')], [handle]);
}
/** Runs an optimizer kernel that updates resource variables in place (no outputs). */
export function applyOp(name: string, inputs: Tensor[], attrs: OpAttr[] = []): void {
  exec(name, [attr.T(), attr.bool('use_locking', false), ...attrs], inputs, 0);
}
export const attrs = attr;

// ---- oneDNN convolutions ----------------------------------------------------------------------
// tfjs-node runs ops eagerly, and TensorFlow's eager Conv2D / Conv2DBackprop* are Eigen's
// (im2col + gemm: ONEDNN_VERBOSE shows only gemm calls); TensorFlow rewrites them to oneDNN's
// convolution primitives only in graphs, and by default only on CPUs with AVX-512 or newer (so
// Keras on an AVX2 machine runs Eigen's too). oneDNN's kernels are registered under their own names with the
// kernel label `MklNameChangeOp` and run eagerly when asked for by name. oneDNN is much faster on
// 1-channel layers (a grayscale model's first conv, the gradients of its last transposed conv) and
// the whole step is faster with it on the wider layers too, except Conv2DBackpropInput on a
// 1-channel output, which stays Eigen (measurements: docs/benchmarks.md, "The graph step and
// oneDNN"). The `…WithBias` variants fold the bias add (forward) and the bias gradient (filter
// backward) into the same kernel.
// Builds without oneDNN (probed once) keep Eigen everywhere.
const mklLabel = memo(() => [attr.str('_kernel', 'MklNameChangeOp')]);
let onednnOk: boolean | undefined;
/** Whether TensorFlow's oneDNN convolution kernels can be called (AE_ONEDNN=0 turns them off). */
export function onednn(): boolean {
  if (process.env.AE_ONEDNN === '0') return false;
  if (onednnOk === undefined) {
    try {
      tf.tidy(() => {
        // 4×4 ones, 3×3 ones kernel: an inner pixel (1,1) sums 9.
        const y = op(
          '_MklNativeConv2D',
          [tf.ones([1, 4, 4, 1]), tf.ones([3, 3, 1, 2])],
          [...convAttrs({ strides: [1, 1], padding: 'SAME' }), ...mklLabel()],
        );
        onednnOk = y.shape.join() === '1,4,4,2' && Math.abs(y.dataSync()[10] - 9) < 1e-6;
      });
    } catch {
      onednnOk = false;
    }
  }
  return onednnOk!;
}
/** conv2d(x, filter) + bias in one oneDNN kernel. */
export const mklConv2dWithBias = (x: Tensor, filter: Tensor, bias: Tensor, s: ConvSpec) =>
  op('_MklNativeConv2DWithBias', [x, filter, bias], [...convAttrs(s), ...mklLabel()]);
export const mklConv2d = (x: Tensor, filter: Tensor, s: ConvSpec) =>
  op('_MklNativeConv2D', [x, filter], [...convAttrs(s), ...mklLabel()]);
export const mklConv2dBackpropFilter = (x: Tensor, filterSizes: Tensor, dy: Tensor, s: ConvSpec) =>
  op('_MklNativeConv2DBackpropFilter', [x, filterSizes, dy], [...convAttrs(s), ...mklLabel()]);
/** [filter gradient, bias gradient (Σ dy over all axes but the last)] in one oneDNN kernel. */
export const mklConv2dBackpropFilterWithBias = (
  x: Tensor,
  filterSizes: Tensor,
  dy: Tensor,
  s: ConvSpec,
): [Tensor, Tensor] =>
  exec(
    '_MklNativeConv2DBackpropFilterWithBias',
    [attr.T(), ...convAttrs(s), ...mklLabel()],
    [x, filterSizes, dy],
    2,
  ) as [Tensor, Tensor];
