// Batch-size guidance: the real training step timed at a few batch sizes on the
// chosen architecture (random data, in the trainer process), and a plain-words hint when the
// chosen batch is dispatch-bound.
import { z } from 'zod';
import { ModelConfig } from './model-config';

export const BatchRate = z.object({ batchSize: z.number().int(), samplesPerSec: z.number() });
export type BatchRate = z.infer<typeof BatchRate>;

/** The rates measured and the hint for the chosen batch size (null when it is fine). */
export const BatchAdvice = z.object({ rates: z.array(BatchRate), advice: z.string().nullable() });
export type BatchAdvice = z.infer<typeof BatchAdvice>;

export const speedCalls = {
  /** Samples/s of one training step at batch 16…256 for `config`; refused while a run trains (it would slow it and skew the numbers). */
  'models:speed': {
    req: z.object({ config: ModelConfig }).strict(),
    res: BatchAdvice,
  },
};
