// Batch-size guidance: a step costs a fixed overhead (one session run and tens of
// kernels, each with its own scheduling cost) plus work that grows with the batch, so small
// batches are dispatch-bound. `measureBatchRates` times a
// few real fast steps per batch size on random data (no dataset needed, a second or two in all);
// `adviseBatchSize` is the pure part that turns those rates into a plain-words hint for the UI.
import { tf } from '../tf';
import { validateConfig } from '../config';
import { buildAutoencoder, trainableVariables } from '../models';
import { FastStep } from './step';
import type { BatchRate } from '../../contract/speed';
import type { ModelConfigInput } from '../config';

export type { BatchRate };

/** Samples/s of the real training step for each batch size (median of `steps` timed steps after 5 warm-up steps: TensorFlow sets up each new shape's kernels on first use). */
export function measureBatchRates(config: ModelConfigInput, sizes = [16, 32, 64, 128, 256], steps = 8): BatchRate[] {
  const shape = config.inputShape;
  const checked = validateConfig(
    { ...config, batchSize: Math.min(...sizes) },
    { count: Math.max(...sizes) * 2, shape },
  );
  if (!checked.ok) throw new Error(checked.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
  const c = checked.config;
  const ae = buildAutoencoder(c);
  const fast = FastStep.compile(ae, c, trainableVariables(ae));
  try {
    if (!fast) return [];
    return sizes.map((n) => {
      const x = tf.randomUniform([n, ...shape], 0, 1, 'float32', n);
      const times: number[] = [];
      for (let i = 0; i < steps + 5; i++) {
        const t0 = performance.now();
        const loss = fast.step(x, x, i);
        loss.dataSync();
        loss.dispose();
        if (i >= 5) times.push(performance.now() - t0);
      }
      x.dispose();
      times.sort((a, b) => a - b);
      return { batchSize: n, samplesPerSec: Math.round((n / times[Math.floor(times.length / 2)]) * 1000) };
    });
  } finally {
    fast?.dispose();
    ae.encoder.dispose();
    ae.decoder.dispose();
  }
}

/**
 * A hint when the chosen batch size trains markedly slower per sample than a larger one measured
 * (below 60 % of the best rate), else null. Pure: give it measureBatchRates' output.
 */
export function adviseBatchSize(chosen: number, rates: BatchRate[]): string | null {
  if (!rates.length) return null;
  const best = rates.reduce((a, b) => (b.samplesPerSec > a.samplesPerSec ? b : a));
  const mine = rates.find((r) => r.batchSize === chosen) ?? nearest(chosen, rates);
  if (best.batchSize <= chosen || mine.samplesPerSec >= 0.6 * best.samplesPerSec) return null;
  const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
  return (
    `Batch ${chosen} trains this model slowly: each step has a fixed cost that a small batch does not outweigh (~${fmt(mine.samplesPerSec)} images/s); ` +
    `batch ${best.batchSize} would train ~${fmt(best.samplesPerSec)} images/s (${(best.samplesPerSec / mine.samplesPerSec).toFixed(1)}× faster per epoch; larger batches take fewer, bigger steps, so raise the learning rate a little or train more epochs).`
  );
}

function nearest(n: number, rates: BatchRate[]): BatchRate {
  return rates.reduce((a, b) => (Math.abs(Math.log(b.batchSize / n)) < Math.abs(Math.log(a.batchSize / n)) ? b : a));
}
