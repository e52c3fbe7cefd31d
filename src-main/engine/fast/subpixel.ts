// A transposed convolution as an ordinary one ("sub-pixel" form), for the inference graph (infer.ts).
//
// A stride-s transposed conv (TensorFlow's Conv2DBackpropInput, 'SAME' padding, output s·h × s·w)
// gives each output pixel (s·m + a, s·n + b) a sum over a few input pixels near (m, n) and the kernel
// taps of its phase (a, b). So the whole layer is one stride-1 convolution over the input (zero-padded
// by the phases' reach) whose s²·C_out output channels are the phases, followed by DepthToSpace, which
// puts phase (a, b) of pixel (m, n) at (s·m + a, s·n + b). Same sums, same weights (re-arranged once,
// when the graph is recorded); only the order of the additions differs (relative differences of about
// 1e-6, measured in the tests).
//
// Why: oneDNN's strided backward-data convolution is slow when the output has few channels (the last
// layer of a decoder: 1 or 3), where the re-arranged forward convolution gets s²× as many output
// channels to vectorise over — 1.6–2× as fast for the last layers of the reference models, even
// though it multiplies the zeros of the taps a phase does not use (≈ 1.8× the work for 3×3 kernels).
// On wide layers it is slower (that extra work), so infer.ts uses it only for outputs of ≤ 4 channels.

export interface SubpixelPlan {
  /** The stride-1 'VALID' conv's kernel, [Kh, Kw, C_in, s·s·C_out] (phase-major output channels). */
  kernel: Float32Array;
  kernelShape: [number, number, number, number];
  /** Zero padding of the input, [[top, bottom], [left, right]]. */
  pad: [[number, number], [number, number]];
  /** The bias per output channel of the conv: the layer's bias once per phase. */
  bias: Float32Array;
  /** DepthToSpace's block size. */
  block: number;
}

/** For one axis: each phase a's taps t and their input offsets d (input row m + d feeds output row s·m + a). */
function axisTaps(k: number, s: number, inSize: number, outSize: number): Array<{ a: number; t: number; d: number }> {
  const padTotal = Math.max((inSize - 1) * s + k - outSize, 0);
  const padBefore = Math.floor(padTotal / 2);
  const taps: Array<{ a: number; t: number; d: number }> = [];
  for (let a = 0; a < s; a++)
    for (let t = 0; t < k; t++) {
      const num = a + padBefore - t;
      if (((num % s) + s) % s === 0) taps.push({ a, t, d: num / s });
    }
  return taps;
}

/**
 * The sub-pixel form of a transposed conv with kernel `filter` ([kh, kw, C_out, C_in], TensorFlow's
 * Conv2DBackpropInput layout) and `bias` (C_out), stride `stride` on both axes, 'SAME' padding, from
 * `inHW` to `outHW`; undefined where it does not apply (unequal strides, 'VALID', an output that is
 * not stride × the input).
 */
export function subpixelPlan(
  filter: Float32Array,
  filterShape: readonly number[],
  bias: Float32Array,
  stride: readonly [number, number],
  padding: 'SAME' | 'VALID',
  inHW: readonly [number, number],
  outHW: readonly [number, number],
): SubpixelPlan | undefined {
  const [kh, kw, cout, cin] = filterShape;
  const s = stride[0];
  if (stride[1] !== s || s < 2 || padding !== 'SAME') return undefined;
  if (outHW[0] !== s * inHW[0] || outHW[1] !== s * inHW[1]) return undefined;
  const rows = axisTaps(kh, s, inHW[0], outHW[0]);
  const cols = axisTaps(kw, s, inHW[1], outHW[1]);
  const reach = (taps: Array<{ d: number }>) => {
    const ds = taps.map((x) => x.d);
    return { lo: Math.min(0, ...ds), hi: Math.max(0, ...ds) };
  };
  const r = reach(rows);
  const c = reach(cols);
  const Kh = r.hi - r.lo + 1;
  const Kw = c.hi - c.lo + 1;
  const out = s * s * cout;
  const kernel = new Float32Array(Kh * Kw * cin * out);
  for (const { a, t, d: di } of rows)
    for (const { a: b, t: u, d: dj } of cols) {
      const base = ((di - r.lo) * Kw + (dj - c.lo)) * cin;
      for (let p = 0; p < cin; p++)
        for (let q = 0; q < cout; q++)
          kernel[(base + p) * out + (a * s + b) * cout + q] = filter[((t * kw + u) * cout + q) * cin + p];
    }
  const phased = new Float32Array(out);
  for (let ph = 0; ph < s * s; ph++) phased.set(bias, ph * cout);
  return {
    kernel,
    kernelShape: [Kh, Kw, cin, out],
    pad: [
      [-r.lo, r.hi],
      [-c.lo, c.hi],
    ],
    bias: phased,
    block: s,
  };
}
