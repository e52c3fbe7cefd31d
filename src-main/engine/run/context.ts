// What one run works with from start to end: the checked config, the model (built, or loaded
// from the checkpoint to resume), the training step chosen once for the run, the optimizer, the
// run's state (epochs done, history, early-stopping counters) and its event sink. Opened once by
// trainRun, closed once (every tensor freed) whatever way the run ends.
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../tf';
import { validateConfig, type ModelConfig } from '../config';
import { buildAutoencoder, trainableVariables, type Autoencoder } from '../models';
import { loadAutoencoder, loadOptimizer, readableDir, writeJsonAtomic } from '../persist';
import { FastStep, fastStepEnabled } from '../fast/step';
import { disposeOptimizerState, klBetaAt, makeOptimizer } from '../objective';
import { RunCheckpointState } from '../../contract/runs';
import { saveCheckpoint } from './save';
import type { EndMetrics, RunEvent, RunHistory, RunResult, StepInfo, TrainOptions } from '../train';

export interface RunState {
  epochsDone: number;
  history: RunHistory;
  bestValLoss: number | null;
  sinceBest: number;
  step: number;
}

/** A run that failed before it had a model (nothing trained, nothing to free). */
const failedAtStart = (message: string): RunResult => ({
  status: 'failed',
  epochsDone: 0,
  bestValLoss: null,
  history: { loss: [], valLoss: [] },
  message,
});

export class RunContext {
  /** The config of the current epoch: `c` with a VAE's KL weight for that epoch (see beginEpoch). */
  cE: ModelConfig;
  /** The step the run reported last (the run's result and model/report.json keep it). */
  stepInfo: StepInfo | undefined;
  readonly ckptDir: string;

  private constructor(
    readonly c: ModelConfig,
    readonly ae: Autoencoder,
    readonly state: RunState,
    readonly vars: tf.Variable[],
    /** The fast step (engine/fast/), or undefined when the run trains on tfjs's optimizer.minimize. */
    readonly fast: FastStep | undefined,
    /** Why the fast step is not used (null when it is). */
    readonly whyNotFast: string | null,
    readonly optimizer: tf.Optimizer,
    readonly emit: (e: RunEvent) => void,
    runDir: string,
  ) {
    this.cE = c;
    this.ckptDir = path.join(runDir, 'checkpoint');
  }

  /**
   * Checks the config against the dataset, then builds the model (writing config.json) or loads it
   * and the optimizer state from the checkpoint to resume, and chooses the training step. A problem
   * comes back as a failed RunResult.
   */
  static async open(opts: TrainOptions): Promise<RunContext | RunResult> {
    const checked = validateConfig(opts.config, { count: opts.dataset.count, shape: opts.dataset.shape });
    if (!checked.ok) return failedAtStart(checked.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
    const c = checked.config;
    const emit = opts.onEvent ?? (() => undefined);
    fs.mkdirSync(opts.runDir, { recursive: true });
    const resumeFrom = opts.resume ? readableDir(path.join(opts.runDir, 'checkpoint')) : undefined;
    if (opts.resume && !resumeFrom) return failedAtStart('There is no checkpoint to resume from in this run.');
    let ae: Autoencoder;
    let state: RunState = {
      epochsDone: 0,
      history: { loss: [], valLoss: [] },
      bestValLoss: null,
      sinceBest: 0,
      step: 0,
    };
    if (resumeFrom) {
      ae = await loadAutoencoder(resumeFrom);
      const stored = RunCheckpointState.safeParse(
        JSON.parse(fs.readFileSync(path.join(resumeFrom, 'state.json'), 'utf8')),
      );
      if (!stored.success) {
        ae.encoder.dispose();
        ae.decoder.dispose();
        const issue = stored.error.issues[0];
        return failedAtStart(
          `The checkpoint's state.json is damaged (${issue?.path.join('.') || 'the file'}: ${issue?.message}); resume cannot continue from it.`,
        );
      }
      state = stored.data;
    } else {
      ae = buildAutoencoder(c);
      writeJsonAtomic(path.join(opts.runDir, 'config.json'), c);
    }
    const vars = trainableVariables(ae);
    const compiled = fastStepEnabled()
      ? FastStep.tryCompile(ae, c, vars)
      : { reason: 'the fast step is turned off (AE_FAST_STEP=0)' };
    const fast = 'step' in compiled ? compiled.step : undefined;
    // The fast step's optimizer keeps tfjs's checkpoint format, so persist.ts serves both.
    const optimizer = fast ? (fast.optimizer as unknown as tf.Optimizer) : makeOptimizer(c);
    if (resumeFrom) await loadOptimizer(optimizer, resumeFrom);
    return new RunContext(
      c,
      ae,
      state,
      vars,
      fast,
      'reason' in compiled ? compiled.reason : null,
      optimizer,
      emit,
      opts.runDir,
    );
  }

  /** Records and announces the training step in use. */
  reportStep(info: StepInfo): void {
    this.stepInfo = info;
    this.emit({ type: 'step', ...info });
  }

  /** The fast step updates its own copy of the parameters; brings the model up to date before anyone looks at it. */
  syncModel(): void {
    this.fast?.optimizer.sync();
  }

  /** Sets the config of `epoch`: a VAE's KL weight during a KL warm-up (klBetaAt). */
  beginEpoch(epoch: number): void {
    const beta = klBetaAt(this.c, epoch);
    this.cE = this.cE.beta === beta ? this.cE : { ...this.c, beta };
    if (this.fast) this.fast.beta = this.cE.beta;
  }

  /** Replaces the checkpoint with the model, optimizer and state after `epoch`, and says so. */
  async checkpoint(epoch: number): Promise<void> {
    this.syncModel();
    await saveCheckpoint(this.ckptDir, this.ae, this.optimizer, this.fast, this.state);
    this.emit({ type: 'checkpoint', epoch, path: this.ckptDir });
  }

  /** The run's result as it stands. */
  result(status: RunResult['status'], message?: string, metrics?: EndMetrics): RunResult {
    const { epochsDone, bestValLoss, history } = this.state;
    return {
      status,
      epochsDone,
      bestValLoss,
      history,
      ...(message === undefined ? {} : { message }),
      step: this.stepInfo,
      ...(metrics ? { metrics } : {}),
    };
  }

  /** Frees the step, the optimizer (with its slot variables) and the model. */
  dispose(): void {
    if (this.fast) this.fast.dispose();
    else {
      this.optimizer.dispose();
      disposeOptimizerState(this.optimizer);
    }
    this.ae.encoder.dispose();
    this.ae.decoder.dispose();
  }
}
