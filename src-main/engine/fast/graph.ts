// The graph step: the fast step's kernels, recorded once as ONE TensorFlow graph and run
// by a TensorFlow session instead of kernel by kernel from JavaScript.
//
// Why: TensorFlow optimizes a graph before running it (what Keras gets from tf.function): Grappler
// fuses Conv2D + BiasAdd + Relu and MatMul + BiasAdd + activation into single kernels, and the
// session runs the kernels back to back (and independent ones side by side) with no JavaScript
// between them. Measured 2026-11-29 (2-core AVX2 machine): model B's step as a Python tf.function
// ran 4,600–4,900 samples/s against 3,400–3,800 for the same kernels op by op from JavaScript.
// TensorFlow's oneDNN graph rewrite is left at TensorFlow's default (off on AVX2 CPUs, on on
// AVX-512 ones): forcing it on made both Keras and this graph slower on an AVX2 machine
// (2026-11-29); on an AVX-512 one (2026-12-02) turning it off was faster for model B in one sitting
// and slower in the next, and slower for a 64×64 RGB conv model — no setting won everywhere. The
// few-channel convolutions recorded as oneDNN's kernels by name (step.ts, native.ts) stay
// faster inside the graph too (whole step 1.02–1.22×, median 1.08× over 5 interleaved runs).
//
// How, with nothing but tfjs-node's public binding: (1) trace — run the fast step once with an
// executor (native.ts `withExecutor`) that executes each kernel eagerly and records it: op name,
// attributes, where each input comes from (another recorded kernel's output; one of the optimizer's
// resource variables; or anything else — the batch, ε, the optimizer's per-step scalars, shape
// constants — which becomes a graph input) and the output shapes; the optimizer's update kernels
// are recorded but not run, so the trace changes nothing. (2) Build a GraphDef from the record
// (one sub-graph per batch size seen, all sharing the variables, plus read-all and assign-all
// sub-graphs), write it as a SavedModel and load it into a session (tfjs-node's loadSavedModel).
// (3) Every step runs the same JavaScript again with an executor that runs nothing: it checks that
// each kernel is the one recorded at that position, collects the graph inputs from their recorded
// positions, and hands back placeholders with the recorded shapes; then one session run computes
// loss, gradients and the updates. Replaying that JavaScript costs ~0.5 ms per step (a sixth of
// model A's step), so it runs on the first step of each batch size and then once every
// `replayEvery` steps (every step under AE_CHECK_GRAPH_REPLAY=1, as in the tests): every graph input
// is, by construction, the batch (input, target), one of the step's values (`makeValues`: the
// optimizer's per-step scalars, a VAE's ε and KL weights — made fresh each step, without the
// replay) or a constant the step keeps for its whole life. The trace records which (the feed plan);
// every replay checks the plan still holds (same kernels, each input from the same place, the same
// constant tensors) and a step that breaks it is refused (GraphMismatch), so training falls back to
// kernel by kernel with the reason, never on stale values. The session owns the parameters while it trains; the
// optimizer's own variables are brought up to date (`beforeRead`) before anything else reads them
// (previews, validation, checkpoints) and pushed back after anything writes them (resume).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../tf';
import { tfProto } from './tf-graph-proto';
import { assignVariable, execEager, nodeBackend, readVariable, withExecutor, type OpAttr } from './native';
import type { NativeOptimizer } from './optimizer';

type Tensor = tf.Tensor;
type Source = { feed: number } | { ref: string };
interface Kernel {
  name: string;
  attrs: OpAttr[];
  inputs: Source[];
  outputs: Array<{ shape: number[]; dtype: tf.DataType }>;
}
/** Where each graph input comes from on every step: the batch, one of the step's values, or a tensor that stays the same. */
type FeedSource = { batch: 'input' | 'target' } | { value: number } | { constant: Tensor };
interface Trace {
  kernels: Kernel[];
  feeds: Array<{ shape: number[]; dtype: tf.DataType }>;
  plan: FeedSource[];
  /** Whether input and target were the same tensor (no noise, no augmentation) when recorded. */
  sameInputTarget: boolean;
  /** The feeds as runSavedModel wants them (made once). */
  feedInfos: Array<{ name: string; tfDtype: string }>;
  loss: string;
}
/** The graph name of output j of the kernel recorded at position `at` of batch size N's sub-graph. */
const refOf = (N: number, at: number, j: number) => `s${N}/${at}${j ? `:${j}` : ''}`;
interface SavedModelBackend {
  binding: Record<string, number>;
  loadSavedModelMetaGraph(dir: string, tags: string): number;
  runSavedModel(
    id: number,
    inputs: Tensor[],
    infos: Array<{ name: string; tfDtype: string }>,
    outputs: string[],
  ): Tensor[];
  deleteSavedModel(id: number): void;
}

const DT: Record<string, { enum: number; name: string }> = {
  float32: { enum: 1, name: 'DT_FLOAT' },
  int32: { enum: 3, name: 'DT_INT32' },
  bool: { enum: 10, name: 'DT_BOOL' },
};

/** What the replaying executor hands back instead of a tensor: the graph name and recorded shape. */
class Placeholder {
  constructor(
    readonly ref: string,
    readonly shape: number[],
    readonly dtype: tf.DataType,
  ) {}
  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

const shapeProto = (shape: number[]) => ({ dim: shape.map((size) => ({ size })) });

/** A kernel attribute as TensorFlow's AttrValue (for a GraphDef's NodeDef; also used by infer.ts). */
export function attrProto(B: Record<string, number>, a: OpAttr): object {
  if (a.type === B.TF_ATTR_STRING) return { s: Buffer.from(String(a.value)) };
  if (a.type === B.TF_ATTR_INT) return Array.isArray(a.value) ? { list: { i: a.value } } : { i: a.value };
  if (a.type === B.TF_ATTR_FLOAT) return { f: a.value };
  if (a.type === B.TF_ATTR_BOOL) return { b: a.value };
  if (a.type === B.TF_ATTR_TYPE) return { type: a.value };
  if (a.type === B.TF_ATTR_SHAPE) return { shape: shapeProto(a.value as number[]) };
  throw new GraphMismatch(`attribute ${a.name} of type ${a.type}`);
}

/** The kernel sequence changed between trace and replay (a code path this file cannot follow). */
export class GraphMismatch extends Error {}

export class GraphStep {
  private readonly traces = new Map<number, Trace>();
  private session: number | undefined;
  private pushedVersion = -1;
  /** The session's variables are newer than the optimizer's own. */
  private ahead = false;
  private readonly handles: Map<Tensor, number>;
  /** Batch sizes the run will use besides the first (a smaller last batch): traced with the first, so the graph is built once. */
  expected: number[] = [];
  /** Replay the step's JavaScript (and check the feed plan) once every this many steps; 1 = every step. */
  replayEvery = process.env.AE_CHECK_GRAPH_REPLAY === '1' ? 1 : 100;
  private sinceReplay = 0;

  private constructor(
    private readonly be: SavedModelBackend,
    private readonly optimizer: NativeOptimizer,
    private readonly run: (input: Tensor, target: Tensor, values: Tensor[]) => Tensor,
    private readonly makeValues: (N: number, seed: number) => Tensor[],
  ) {
    const vars = optimizer.variables();
    this.handles = new Map(vars.map((v, i) => [v.handle, i]));
    optimizer.beforeRead = () => this.pull();
  }

  /**
   * A graph step for `run` (one eager training step through native.ts, which must count its update
   * with the optimizer), or undefined where tfjs-node cannot load graphs. `makeValues(N, seed)` makes
   * the tensors besides the batch that change from step to step (new ones; disposed here after the
   * step), handed to `run`.
   */
  static create(
    optimizer: NativeOptimizer,
    run: (input: Tensor, target: Tensor, values: Tensor[]) => Tensor,
    makeValues: (N: number, seed: number) => Tensor[] = () => [],
  ): GraphStep | undefined {
    const be = nodeBackend() as unknown as Partial<SavedModelBackend> | undefined;
    if (!be || typeof be.loadSavedModelMetaGraph !== 'function' || typeof be.runSavedModel !== 'function')
      return undefined;
    return new GraphStep(be as SavedModelBackend, optimizer, run, makeValues);
  }

  /** One training step in the session; returns the loss (the caller disposes it). */
  step(input: Tensor, target: Tensor, seed: number): tf.Scalar {
    const N = input.shape[0];
    let replay = false;
    if (!this.traces.has(N)) {
      this.traces.set(N, this.trace(input, target, seed));
      for (const m of this.expected.filter((m) => m < N && !this.traces.has(m))) {
        const [i, t] = tf.tidy(() => {
          const i = tf.slice(input, 0, m);
          return [i, input === target ? i : tf.slice(target, 0, m)];
        });
        this.traces.set(m, this.trace(i, t, seed));
        tf.dispose([i, t]);
      }
      this.load();
      replay = true;
    }
    if (this.optimizer.version !== this.pushedVersion) this.push();
    const trace = this.traces.get(N)!;
    replay ||=
      this.replayEvery <= 1 || ++this.sinceReplay >= this.replayEvery || (input === target) !== trace.sameInputTarget;
    const values = this.makeValues(N, seed);
    try {
      if (replay) {
        this.sinceReplay = 0;
        this.replay(trace, N, input, target, values);
      } else this.optimizer.advance();
      const feeds = trace.plan.map((src) =>
        'constant' in src ? src.constant : 'value' in src ? values[src.value] : src.batch === 'input' ? input : target,
      );
      const [out] = this.be.runSavedModel(this.session!, feeds, trace.feedInfos, [`s${N}/loss`]);
      this.ahead = true;
      return out as tf.Scalar;
    } finally {
      tf.dispose(values);
    }
  }

  /**
   * Runs the step's JavaScript with an executor that runs nothing: checks that it calls the recorded
   * kernels in the recorded order, each input coming from where the feed plan says, and lets it
   * count its optimizer update.
   */
  private replay(trace: Trace, N: number, input: Tensor, target: Tensor, values: Tensor[]): void {
    let at = 0;
    const loss = withExecutor(
      (name, _attrs, inputs) => {
        const k = trace.kernels[at];
        if (!k || k.name !== name || k.inputs.length !== inputs.length)
          throw new GraphMismatch(`kernel ${at}: recorded ${k?.name ?? 'nothing'}, now ${name}`);
        k.inputs.forEach((s, j) => {
          const t = inputs[j] as Tensor | Placeholder;
          if ('feed' in s) {
            const src = trace.plan[s.feed];
            const expected =
              'constant' in src
                ? src.constant
                : 'value' in src
                  ? values[src.value]
                  : src.batch === 'input'
                    ? input
                    : target;
            if (t instanceof Placeholder || t !== expected)
              throw new GraphMismatch(`kernel ${at} (${name}): input ${j} is not the recorded graph input`);
          } else if (
            s.ref.startsWith('v')
              ? this.handles.get(t as Tensor) !== Number(s.ref.slice(1))
              : !(t instanceof Placeholder) || t.ref !== s.ref
          ) {
            throw new GraphMismatch(
              `kernel ${at} (${name}): input ${j} does not come from where it came from when recorded`,
            );
          }
        });
        const out = k.outputs.map((o, j) => new Placeholder(refOf(N, at, j), o.shape, o.dtype));
        at++;
        return out as unknown as Tensor[];
      },
      () => this.run(input, target, values),
    ) as unknown as Placeholder;
    if (at !== trace.kernels.length || !(loss instanceof Placeholder) || loss.ref !== trace.loss) {
      throw new GraphMismatch(`the step ran ${at} of ${trace.kernels.length} recorded kernels`);
    }
  }

  /** Runs one step eagerly, recording every kernel and where each graph input comes from; the optimizer's updates are recorded, not run. */
  private trace(input: Tensor, target: Tensor, seed: number): Trace {
    const N = input.shape[0];
    const refs = new Map<Tensor, string>();
    const feedOf = new Map<Tensor, number>();
    const trace: Trace = {
      kernels: [],
      feeds: [],
      plan: [],
      sameInputTarget: input === target,
      feedInfos: [],
      loss: '',
    };
    const iterations = this.optimizer.iterations;
    const values = this.makeValues(N, seed);
    try {
      const loss = withExecutor(
        (name, attrs, inputs, numOutputs) => {
          const sources = inputs.map((t): Source => {
            const ref = refs.get(t) ?? (this.handles.has(t) ? `v${this.handles.get(t)}` : undefined);
            if (ref) return { ref };
            let k = feedOf.get(t);
            if (k === undefined) {
              if (!DT[t.dtype]) throw new GraphMismatch(`an input of ${name} is ${t.dtype}`);
              feedOf.set(t, (k = trace.feeds.length));
              trace.feeds.push({ shape: t.shape, dtype: t.dtype });
              const v = values.indexOf(t);
              trace.plan.push(
                t === input
                  ? { batch: 'input' }
                  : t === target
                    ? { batch: 'target' }
                    : v >= 0
                      ? { value: v }
                      : { constant: t },
              );
            }
            return { feed: k };
          });
          const at = trace.kernels.length;
          const out = numOutputs === 0 ? [] : execEager(name, attrs, inputs, numOutputs);
          out.forEach((t, j) => refs.set(t, refOf(N, at, j)));
          trace.kernels.push({
            name,
            attrs,
            inputs: sources,
            outputs: out.map((t) => ({ shape: t.shape, dtype: t.dtype })),
          });
          return out;
        },
        () => this.run(input, target, values),
      );
      trace.loss = refs.get(loss) ?? '';
      loss.dispose();
    } finally {
      this.optimizer.iterations = iterations;
      tf.dispose(values);
    }
    trace.feedInfos = trace.feeds.map((f, k) => ({ name: `s${N}/f${k}`, tfDtype: DT[f.dtype].name }));
    if (!trace.loss) throw new GraphMismatch('the loss is not computed by the recorded kernels');
    // A constant must outlive the step: a tensor made inside it (and gone now) is a value the step forgot to declare.
    if (trace.plan.some((src) => 'constant' in src && src.constant.isDisposed))
      throw new GraphMismatch('a graph input is made inside the step but is neither the batch nor one of its values');
    return trace;
  }

  /** (Re)builds the graph for every batch size traced so far and loads it into a fresh session. */
  private load(): void {
    this.pull();
    this.close();
    const attr = (a: OpAttr) => attrProto(this.be.binding, a);
    const F = { type: DT.float32.enum };
    const nodes: object[] = [];
    const vars = this.optimizer.variables();
    vars.forEach((v, i) => {
      nodes.push({
        name: `v${i}`,
        op: 'VarHandleOp',
        attr: {
          dtype: F,
          shape: { shape: shapeProto(v.shape) },
          container: { s: Buffer.from('') },
          shared_name: { s: Buffer.from(`v${i}`) },
        },
      });
      nodes.push({ name: `read/${i}`, op: 'ReadVariableOp', input: [`v${i}`], attr: { dtype: F } });
      nodes.push({
        name: `assign/in${i}`,
        op: 'Placeholder',
        attr: { dtype: F, shape: { shape: shapeProto(v.shape) } },
      });
      nodes.push({
        name: `assign/${i}`,
        op: 'AssignVariableOp',
        input: [`v${i}`, `assign/in${i}`],
        attr: { dtype: F },
      });
    });
    const one = {
      tensor: { dtype: DT.float32.enum, tensorShape: {}, tensorContent: Buffer.from(new Float32Array([1]).buffer) },
    };
    nodes.push({ name: 'assign/one', op: 'Const', attr: { dtype: F, value: one } });
    nodes.push({
      name: 'assign/done',
      op: 'Identity',
      input: ['assign/one', ...vars.map((_, i) => `^assign/${i}`)],
      attr: { T: F },
    });
    for (const [N, t] of this.traces) {
      t.feeds.forEach((f, k) =>
        nodes.push({
          name: `s${N}/f${k}`,
          op: 'Placeholder',
          attr: { dtype: { type: DT[f.dtype].enum }, shape: { shape: shapeProto(f.shape) } },
        }),
      );
      const updates: string[] = [];
      t.kernels.forEach((k, at) => {
        if (!k.outputs.length) updates.push(`^${refOf(N, at, 0)}`);
        nodes.push({
          name: refOf(N, at, 0),
          op: k.name,
          input: k.inputs.map((s) => ('ref' in s ? s.ref : `s${N}/f${s.feed}`)),
          attr: Object.fromEntries(k.attrs.map((a) => [a.name, attr(a)])),
        });
      });
      nodes.push({ name: `s${N}/loss`, op: 'Identity', input: [t.loss, ...updates], attr: { T: F } });
    }
    const SavedModel = tfProto.lookupType('tensorflow.SavedModel');
    const bytes = SavedModel.encode(
      SavedModel.create({
        savedModelSchemaVersion: 1,
        metaGraphs: [{ metaInfoDef: { tags: ['serve'] }, graphDef: { node: nodes, versions: { producer: 1286 } } }],
      }),
    ).finish();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-step-graph-'));
    try {
      fs.writeFileSync(path.join(dir, 'saved_model.pb'), bytes);
      this.session = this.be.loadSavedModelMetaGraph(dir, 'serve');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    this.pushedVersion = -1;
  }

  /** Copies the optimizer's variables into the session's. */
  private push(): void {
    const vars = this.optimizer.variables();
    const values = vars.map((v) => readVariable(v.handle));
    try {
      tf.dispose(
        this.be.runSavedModel(
          this.session!,
          values,
          vars.map((_, i) => ({ name: `assign/in${i}`, tfDtype: 'DT_FLOAT' })),
          ['assign/done'],
        ),
      );
    } finally {
      tf.dispose(values);
    }
    this.pushedVersion = this.optimizer.version;
    this.ahead = false;
  }

  /** Copies the session's variables into the optimizer's (when the session is ahead). */
  private pull(): void {
    if (!this.ahead || this.session === undefined) return;
    const vars = this.optimizer.variables();
    const values = this.be.runSavedModel(
      this.session,
      [],
      [],
      vars.map((_, i) => `read/${i}`),
    );
    vars.forEach((v, i) => assignVariable(v.handle, values[i]));
    tf.dispose(values);
    this.ahead = false;
  }

  private close(): void {
    if (this.session !== undefined) this.be.deleteSavedModel(this.session);
    this.session = undefined;
  }

  /** Brings the optimizer's variables up to date and frees the session. */
  dispose(): void {
    try {
      this.pull();
    } finally {
      this.close();
      this.optimizer.beforeRead = undefined;
    }
  }
}
