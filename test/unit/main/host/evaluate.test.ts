// host/evaluate.ts (`evaluate:run`) through createHost and the REAL trainer, on a run trained for
// one epoch on a tiny stored dataset: the evaluation counts the images, scores each label, and
// with labels marked anomalous gives the ROC curve; an unknown run is not_found and a run without
// a trained model is refused in plain words.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostInTemp, storedRun, trainedRun, type TestHost } from './helpers';

let t: TestHost;
let runId: string;
beforeAll(async () => {
  t = hostInTemp({ prepare: (ws) => storedRun(ws, 'run-20261201-000000-0000', 'failed') });
  runId = await trainedRun(t);
});
afterAll(async () => {
  await t?.dispose();
});

describe('evaluating a run', () => {
  it('refuses an unknown run and a run without a model in plain words', async () => {
    expect(await t.refused('evaluate:run', { runId: 'run-20990101-000000-ffff' })).toEqual({
      code: 'not_found',
      message: "There is no run 'run-20990101-000000-ffff' in this workspace.",
    });
    expect(await t.refused('evaluate:run', { runId: 'run-20261201-000000-0000' })).toEqual({
      code: 'conflict',
      message:
        "Run 'run-20261201-000000-0000' has no trained model yet (it is failed); evaluation needs a finished run.",
    });
  });

  it('scores the images the run never trained on, per label, and gives the ROC for the labels marked anomalous', async () => {
    const e = await t.ok('evaluate:run', { runId });
    expect(e.labelNames).toEqual(['top left', 'top right', 'bottom left', 'bottom right']);
    expect(e.shape).toEqual([12, 12, 1]);
    expect(e.counts.total).toBe(100);
    expect(e.counts.scored).toBeGreaterThan(0);
    expect(e.counts.train + e.counts.scored).toBeLessThanOrEqual(100);
    expect(e.reconstruction.count).toBe(e.counts.scored);
    expect(e.reconstruction.mse).toBeGreaterThan(0);
    expect(e.perLabel.map((p) => p.label)).toEqual([0, 1, 2, 3]);
    expect(e.csv.split('\n')[0]).toBe('index,label,mse,anomalous');
    expect(e.csv.trim().split('\n')).toHaveLength(1 + e.counts.scored);
    expect(e.anomaly).toBeUndefined();

    const a = await t.ok('evaluate:run', { runId, anomalous: [3] });
    expect(a.anomaly).toMatchObject({ anomalous: [3], positives: expect.any(Number), negatives: expect.any(Number) });
    expect(a.anomaly!.positives + a.anomaly!.negatives).toBe(a.counts.scored);
    expect(a.anomaly!.auc).toBeGreaterThanOrEqual(0);
    expect(a.anomaly!.auc).toBeLessThanOrEqual(1);
    expect(a.anomaly!.roc.at(0)).toMatchObject({ fpr: 0, tpr: 0 });
    expect(a.anomaly!.roc.at(-1)).toMatchObject({ fpr: 1, tpr: 1 });
  });
});
