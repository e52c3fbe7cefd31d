// The trainer's run events, relayed: each updates the run's summary (step, epochs, history,
// preview) and goes out as `runs:event`; a run's end sets its status and frees its slot; a trainer
// crash fails the runs it was training, resumable from their last checkpoints.
import type { EventPayload } from '../../contract';
import type { TrainerEventArgs, TrainerEventPayload } from '../../trainer/protocol';
import type { TrainerSupervisor } from '../../trainer/supervisor';
import type { RunScheduler } from './scheduler';
import type { RunsState } from './state';

export class RunEventRelay {
  constructor(
    private readonly state: RunsState,
    private readonly scheduler: RunScheduler,
    private readonly trainer: TrainerSupervisor,
  ) {
    trainer.on('trainer-event', this.onTrainerEvent);
    trainer.on('state', this.onState);
  }

  dispose(): void {
    this.trainer.off('trainer-event', this.onTrainerEvent);
    this.trainer.off('state', this.onState);
  }

  private readonly onTrainerEvent = (...args: TrainerEventArgs): void => {
    if (args[0] === 'run-event') this.onRunEvent(args[1]);
    else if (args[0] === 'run-end') this.onRunEnd(args[1]);
  };

  private onRunEvent(p: TrainerEventPayload<'run-event'>): void {
    const { state } = this;
    const run = state.runs.get(p.runId);
    if (!run) return;
    const e = p.event;
    if (e.type === 'step') {
      const { type: _t, ...info } = e;
      run.step = info;
      state.files.persist(run);
      if (info.fallback) {
        const what =
          info.step === 'tfjs'
            ? "tfjs's own, much slower training step"
            : 'the training step kernel by kernel instead of as one TensorFlow graph (slower)';
        state.emit('app:notice', {
          level: 'warning',
          message: `Run ${run.runId} trains with ${what}: ${info.reason ?? 'no reason given'}.`,
          at: Date.now(),
        });
      }
    }
    if (e.type === 'epoch') {
      run.epochsDone = e.epoch;
      run.history.loss[e.epoch - 1] = e.loss;
      run.history.valLoss[e.epoch - 1] = e.valLoss;
      run.samplesPerSec = e.samplesPerSec;
      run.elapsedSec = (this.state.elapsedBefore.get(run.runId) ?? 0) + e.elapsedSec; // the whole run's time, not this session's
      state.files.persist(run);
      state.files.saveBatchLoss(run.runId);
    } else if (e.type === 'preview') state.files.keepPreview(run.runId, e);
    else if (e.type === 'batch') {
      state.files.saveProgress(run.runId, e);
      state.files.addBatch(run.runId, e);
    }
    state.emit('runs:event', p);
  }

  private onRunEnd(p: TrainerEventPayload<'run-end'>): void {
    const { state } = this;
    const run = state.runs.get(p.runId);
    if (!run) return;
    run.epochsDone = p.result.epochsDone;
    if (p.result.history.loss.length) run.history = p.result.history;
    if (p.result.step) run.step = p.result.step;
    if (p.result.metrics) run.metrics = p.result.metrics;
    if (p.result.status === 'failed') state.files.fromCheckpoint(run);
    state.files.saveBatchLoss(run.runId);
    state.setStatus(run, p.result.status, p.result.message);
    state.files.savePreview(run.runId);
    this.scheduler.pump();
  }

  private readonly onState = (s: EventPayload<'trainer:state'>): void => {
    if (s.state !== 'crashed') return;
    const { state } = this;
    for (const run of state.runs.values()) {
      if (run.status === 'running') {
        state.files.fromCheckpoint(run);
        state.files.savePreview(run.runId);
        state.files.saveBatchLoss(run.runId);
        state.setStatus(
          run,
          'failed',
          `The trainer process stopped during this run (${s.error ?? 'unknown reason'}). Resume continues from the last checkpoint (epoch ${run.epochsDone}).`,
        );
      }
    }
    this.scheduler.pump(); // queued runs start in a fresh trainer
  };
}
