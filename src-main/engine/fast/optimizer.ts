// The optimizer of the fast training step: parameters and slots live in TensorFlow
// resource variables and each update is ONE TensorFlow kernel per variable (ResourceApplyAdam,
// ResourceApplyRMSProp, ResourceApplyMomentum, ResourceApplyGradientDescent) instead of tfjs's
// ~10 small ops per variable. The arithmetic is tfjs's own:
//  - Adam: tfjs computes lr · m̂ / (√v̂ + ε) with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ); TensorFlow's kernel
//    computes lrₜ · m / (√v + ε′) with lrₜ = lr·√(1−β₂ᵗ)/(1−β₁ᵗ). Passing ε′ = ε·√(1−β₂ᵗ) makes the
//    two identical (checked against tf.train.adam in the tests).
//  - RMSprop (not centred) and momentum SGD: TensorFlow's kernels are tfjs's formulas exactly.
// Checkpoints keep tfjs's optimizer format (getWeights/setWeights: 'iter', then the slots in tfjs's
// order and names), so a run saved by either path resumes on the other.
//
// The model's tf.Variables are NOT updated every step: the step reads the parameters straight from
// the resource variables (so the update runs in place, with no copy), and `sync()` copies them into
// the model before anything else looks at the model (preview, validation, checkpoint, final save).
import { tf } from '../tf';
import type { ModelConfig } from '../config';
import { applyOp, assignVariable, readVariable, resourceVariable } from './native';

type Tensor = tf.Tensor;
interface NamedTensor {
  name: string;
  tensor: Tensor;
}

const SLOTS: Record<ModelConfig['optimizer'], string[]> = { adam: ['m', 'v'], rmsprop: ['rms', 'momentum'], sgd: [] };

export class NativeOptimizer {
  /** Steps taken (tfjs's `iterations`). */
  iterations = 0;
  private readonly params: Tensor[];
  /** slots[k][i]: slot k of variable i. */
  private readonly slots: Tensor[][];
  private readonly slotNames: string[];
  private readonly consts: Record<string, Tensor>;
  private dirty = false;
  /** Bumped whenever the resource variables are written from outside the step (setWeights). */
  version = 0;
  /**
   * Set while the parameters' current values live elsewhere (graph.ts's session): called before
   * this class reads its own variables for anyone outside the step, to bring them up to date.
   */
  beforeRead?: () => void;
  private snapshot: Tensor[] = [];
  private readonly epsilon = 1e-7; // tfjs's default: the backend's epsilon for float32

  constructor(
    private readonly c: ModelConfig,
    private readonly vars: tf.Variable[],
  ) {
    this.slotNames = c.optimizer === 'sgd' && c.momentum > 0 ? ['momentum'] : SLOTS[c.optimizer];
    this.params = vars.map((v) => resourceVariable(v));
    this.slots = this.slotNames.map(() => vars.map((v) => tf.tidy(() => resourceVariable(tf.zerosLike(v)))));
    const s = (x: number) => tf.keep(tf.scalar(x));
    this.consts = {
      lr: s(c.learningRate),
      beta1: s(0.9),
      beta2: s(0.999),
      rho: s(0.9),
      momentum: s(c.momentum),
      eps: s(this.epsilon),
    };
  }

  /** Every resource variable with its shape: the parameters, then each slot's variables. */
  variables(): Array<{ handle: Tensor; shape: number[] }> {
    return [this.params, ...this.slots].flatMap((hs) => hs.map((handle, i) => ({ handle, shape: this.vars[i].shape })));
  }

  /** The current parameters, read from the resource variables (one kernel each; no copy). */
  read(): Tensor[] {
    return this.params.map(readVariable);
  }

  /**
   * The scalars update number `t` needs besides the gradients (Adam: β₁ᵗ, β₂ᵗ and ε′; none for the
   * others): new tensors, the caller disposes them. Made apart from `apply` so the graph step can
   * feed them to its session without running the step's JavaScript (graph.ts).
   */
  stepScalars(t = this.iterations + 1): Tensor[] {
    if (this.c.optimizer !== 'adam') return [];
    const b2p = 0.999 ** t;
    return [tf.scalar(0.9 ** t), tf.scalar(b2p), tf.scalar(this.epsilon * Math.sqrt(1 - b2p))];
  }

  /**
   * One update with `grads` (in the order of the variables) and the scalars `stepScalars()` made for
   * it (made here when not given). Call with no read() results alive, so TensorFlow updates in place.
   */
  apply(grads: Tensor[], scalars?: Tensor[]): void {
    const k = this.consts;
    const own = scalars ? undefined : this.stepScalars();
    const [beta1Power, beta2Power, eps] = scalars ?? own!;
    try {
      if (this.c.optimizer === 'adam') {
        for (let i = 0; i < grads.length; i++) {
          applyOp('ResourceApplyAdam', [
            this.params[i],
            this.slots[0][i],
            this.slots[1][i],
            beta1Power,
            beta2Power,
            k.lr,
            k.beta1,
            k.beta2,
            eps,
            grads[i],
          ]);
        }
      } else if (this.c.optimizer === 'rmsprop') {
        for (let i = 0; i < grads.length; i++) {
          applyOp('ResourceApplyRMSProp', [
            this.params[i],
            this.slots[0][i],
            this.slots[1][i],
            k.lr,
            k.rho,
            k.momentum,
            k.eps,
            grads[i],
          ]);
        }
      } else if (this.slotNames.length) {
        for (let i = 0; i < grads.length; i++)
          applyOp('ResourceApplyMomentum', [this.params[i], this.slots[0][i], k.lr, grads[i], k.momentum]);
      } else {
        for (let i = 0; i < grads.length; i++)
          applyOp('ResourceApplyGradientDescent', [this.params[i], k.lr, grads[i]]);
      }
    } finally {
      if (own) tf.dispose(own);
    }
    this.advance();
  }

  /** Counts one update made elsewhere (the graph step's session ran it). */
  advance(): void {
    this.iterations++;
    this.dirty = true;
  }

  /** Copies the parameters into the model's tf.Variables (no-op when they are current). */
  sync(): void {
    if (!this.dirty) return;
    this.beforeRead?.();
    tf.tidy(() => this.vars.forEach((v, i) => v.assign(readVariable(this.params[i]))));
    this.dirty = false;
  }

  /** tfjs's optimizer format: 'iter', then every variable's first slot, then every variable's second. Call releaseWeights() after use. */
  async getWeights(): Promise<NamedTensor[]> {
    this.releaseWeights();
    this.beforeRead?.();
    this.snapshot = [tf.scalar(this.iterations, 'int32'), ...this.slots.flatMap((slot) => slot.map(readVariable))];
    const names = ['iter', ...this.slotNames.flatMap((s) => this.vars.map((v) => `${v.name}/${s}`))];
    return this.snapshot.map((tensor, i) => ({ name: names[i], tensor }));
  }

  /** Frees the tensors the last getWeights() returned. */
  releaseWeights(): void {
    tf.dispose(this.snapshot);
    this.snapshot = [];
  }

  /** Restores what getWeights() (or a tfjs optimizer of the same kind) saved. */
  async setWeights(weights: NamedTensor[]): Promise<void> {
    this.iterations = (await weights[0].tensor.data())[0];
    const rest = weights.slice(1);
    const n = this.vars.length;
    if (rest.length !== this.slots.length * n)
      throw new Error(
        `The checkpoint's optimizer state has ${rest.length} slots; this model needs ${this.slots.length * n}.`,
      );
    this.beforeRead?.(); // the parameters come from elsewhere; bring them here before the slots are replaced
    this.slots.forEach((slot, k) => slot.forEach((h, i) => assignVariable(h, rest[k * n + i].tensor)));
    this.version++;
  }

  dispose(): void {
    this.releaseWeights();
    tf.dispose([...this.params, ...this.slots.flat(), ...Object.values(this.consts)]);
  }
}
