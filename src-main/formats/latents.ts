// Latent codes of a dataset as CSV: header `label,z0,z1,…`, one row per image in dataset order;
// a VAE's row is its posterior mean. Floats are written so they read back to the same float32.
import fs from 'node:fs';
import { RowGather, type TrainingData } from '../engine/data';
import type { TrainedModel } from '../engine/trained-model';
import { writeFileAtomic, type ExportResult } from './output';

export interface LatentsCsvOptions {
  /** Names for the label indices (a stored dataset's labelNames): written instead of the index. */
  labelNames?: string[];
  /** Images encoded per step (memory bound). */
  batchSize?: number;
}

const csvField = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
/** The shortest decimal that reads back to the same float32. */
const num = (v: number) => String(Number(v.toPrecision(9)));

export async function writeLatentsCsv(
  trained: TrainedModel,
  dataset: TrainingData,
  out: string,
  opts: LatentsCsvOptions = {},
): Promise<ExportResult & { rows: number }> {
  const [h, w, c] = trained.config.inputShape;
  const [dh, dw, dc] = dataset.shape;
  if (dh !== h || dw !== w || dc !== c)
    throw new Error(`This model takes ${h}×${w}×${c} images; the dataset has ${dh}×${dw}×${dc}.`);
  const d = trained.config.latentDim;
  const batch = opts.batchSize ?? 512;
  // Rows as stored, a batch at a time: a dataset streamed from its file is never read whole.
  const rows = new RowGather(
    dataset,
    Int32Array.from({ length: dataset.count }, (_, i) => i),
  );
  const result = await writeFileAtomic(out, (tmp) => {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, `label,${Array.from({ length: d }, (_, k) => `z${k}`).join(',')}\n`);
      for (let i = 0; i < dataset.count; i += batch) {
        const n = Math.min(batch, dataset.count - i);
        const z = trained.encode(rows.slice(i, n));
        const lines: string[] = [];
        for (let r = 0; r < n; r++) {
          const l = dataset.labels ? dataset.labels[i + r] : undefined;
          const label = l === undefined ? '' : csvField(opts.labelNames?.[l] ?? String(l));
          const row = [label];
          for (let k = 0; k < d; k++) row.push(num(z[r * d + k]));
          lines.push(row.join(','));
        }
        fs.writeSync(fd, `${lines.join('\n')}\n`);
      }
    } finally {
      fs.closeSync(fd);
    }
  });
  return { ...result, rows: dataset.count };
}
