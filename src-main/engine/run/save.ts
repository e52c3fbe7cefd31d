// What a run writes to its folder, each in one atomic folder swap (atomic.ts): the checkpoint
// after every epoch and the trained model at the end.
import fs from 'node:fs';
import path from 'node:path';
import type { tf } from '../tf';
import type { ModelConfig } from '../config';
import type { Autoencoder } from '../models';
import { evalBatchSize, type BatchSource } from '../data';
import { saveAutoencoder, saveOptimizer, writeDirAtomic } from '../persist';
import { fitLatentStats } from '../latent-stats';
import type { FastStep } from '../fast/step';
import type { EndMetrics, StepInfo } from '../train';
import type { RunState } from './context';

/** Replaces the run's checkpoint (model, optimizer state, state.json) in one atomic folder swap. */
export async function saveCheckpoint(
  ckptDir: string,
  ae: Autoencoder,
  optimizer: tf.Optimizer,
  fast: FastStep | undefined,
  state: RunState,
): Promise<void> {
  const snapshot = JSON.parse(JSON.stringify(state)) as RunState;
  await writeDirAtomic(ckptDir, async (tmp) => {
    await saveAutoencoder(ae, tmp);
    await saveOptimizer(optimizer, tmp);
    fast?.optimizer.releaseWeights();
    fs.writeFileSync(path.join(tmp, 'state.json'), JSON.stringify(snapshot));
  });
}

/** The trained model: model.json (the whole autoencoder), encoder/ and decoder/ (TensorFlow.js format), config.json, the latent statistics and report.json (step path, end-of-run metrics). */
export async function saveFinalModel(
  ae: Autoencoder,
  c: ModelConfig,
  trainImages: BatchSource,
  runDir: string,
  report: { step: StepInfo | undefined; metrics: EndMetrics },
): Promise<void> {
  const stats = await fitLatentStats(ae, trainImages, evalBatchSize(c.inputShape, c.batchSize));
  await writeDirAtomic(path.join(runDir, 'model'), async (tmp) => {
    await saveAutoencoder(ae, tmp, { full: true });
    fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify(c, null, 2));
    fs.writeFileSync(path.join(tmp, 'latent-stats.json'), JSON.stringify(stats));
    fs.writeFileSync(path.join(tmp, 'report.json'), JSON.stringify(report, null, 2));
  });
}
