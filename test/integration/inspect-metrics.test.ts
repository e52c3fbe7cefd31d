// The inspection metrics (src-main/engine/inspect/metrics.ts) against independent code on the same
// data: scikit-learn's roc_auc_score, average_precision_score and precision_recall_curve, and a
// reference PRO written in Python after the MVTec AD definition, with scipy.ndimage.label for the
// connected components (test/integration/py/inspect_metrics.py).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  aupro,
  averagePrecision,
  connectedComponents,
  f1Max,
  inspectionMetrics,
  rocAuc,
} from '../../src-main/engine/inspect/metrics';
import { mulberry32 } from '../../src-main/engine/rng';
import { ensurePyEnv, runPython } from '../helpers/pyenv';

const PY = path.join(__dirname, 'py', 'inspect_metrics.py');

/** n images of h × w: defective ones get blobs (some touching only at a corner) in the mask and raised map values around them. */
function makeData(seed: number, n: number, h: number, w: number) {
  const rand = mulberry32(seed);
  const maps = new Float32Array(n * h * w);
  const masks = new Uint8Array(n * h * w);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3 === 0 ? 0 : 1 + (i % 2); // 0 = good, 1 and 2 = defect types
    const base = i * h * w;
    for (let p = 0; p < h * w; p++) maps[base + p] = Math.round(rand() * 40) / 40; // ties on purpose
    if (labels[i] === 0) continue;
    const blobs = 1 + Math.floor(rand() * 3);
    for (let b = 0; b < blobs; b++) {
      const cy = Math.floor(rand() * h);
      const cx = Math.floor(rand() * w);
      const r = 1 + rand() * 3;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          if ((y - cy) ** 2 + (x - cx) ** 2 <= r * r) {
            masks[base + y * w + x] = 255;
            maps[base + y * w + x] = Math.min(1.5, maps[base + y * w + x] + Math.round(rand() * 20) / 40);
          }
        }
      }
    }
    // two pixels touching only diagonally: one region with 8-connectivity
    masks[base + 0] = 255;
    masks[base + w + 1] = 255;
  }
  const scores = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let p = 0; p < h * w; p++) s = Math.max(s, maps[i * h * w + p]);
    return Math.round(s * 8) / 8 + Math.round(rand() * 6) / 8; // overlapping classes, with ties
  });
  return { maps, masks, labels, scores };
}

describe('inspection metrics against scikit-learn and a reference PRO in Python', () => {
  it('8-connected components', () => {
    // 1 0 0 0 / 1 0 1 0 / 1 1 0 0 / 0 0 0 1: (1,2) touches (2,1) at a corner only
    const m = [1, 0, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1];
    const { labels, count } = connectedComponents(m, 4, 4);
    expect(count).toBe(2);
    expect(labels[6]).toBe(labels[0]);
    expect(labels[15]).not.toBe(labels[0]);
    expect(labels[1]).toBe(0);
  });

  it('image ROC AUC, average precision, F1-max, pixel ROC AUC and AUPRO match on the same data', () => {
    const env = ensurePyEnv(['scikit-learn', 'numpy']);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-inspect-metrics-'));
    try {
      for (const seed of [1, 2]) {
        const n = 30;
        const [h, w] = [20, 16];
        const d = makeData(seed, n, h, w);
        const positive = Array.from(d.labels, (l) => (l !== 0 ? 1 : 0));
        const file = path.join(dir, `data-${seed}.json`);
        fs.writeFileSync(
          file,
          JSON.stringify({ scores: d.scores, positive, maps: Array.from(d.maps), masks: Array.from(d.masks), n, h, w }),
        );
        const ref = JSON.parse(
          runPython(env, PY, [file])
            .split('\n')
            .find((l) => l.startsWith('RESULT '))!
            .slice(7),
        ) as Record<string, number>;
        const f = f1Max(d.scores, positive);
        const ours = {
          imageAuroc: rocAuc(d.scores, positive),
          imageAupr: averagePrecision(d.scores, positive),
          f1Max: f.f1,
          pixelAuroc: rocAuc(d.maps, d.masks),
          aupro: aupro(d.maps, d.masks, n, h, w),
        };
        console.log(`seed ${seed}: studio ${JSON.stringify(ours)}\n        reference ${JSON.stringify(ref)}`);
        for (const k of Object.keys(ours) as Array<keyof typeof ours>)
          expect(Math.abs(ours[k] - ref[k]), k).toBeLessThan(1e-9);
        // the threshold reaches that F1 (ties between thresholds may pick another score of equal F1)
        const called = d.scores.map((s) => s >= f.threshold);
        const tp = called.filter((c, i) => c && positive[i]).length;
        const fp = called.filter((c, i) => c && !positive[i]).length;
        const fn = positive.filter((p, i) => p && !called[i]).length;
        expect(Math.abs((2 * tp) / (2 * tp + fp + fn) - ref.f1Max)).toBeLessThan(1e-12);
        // the metrics sit in a sensible range for this data (defects raise the map)
        expect(ours.pixelAuroc).toBeGreaterThan(0.55);
        expect(ours.aupro).toBeGreaterThan(0);
        expect(ours.aupro).toBeLessThan(1);

        // per defect type: each type against the good images, and the same numbers as computed alone
        const all = inspectionMetrics({
          scores: d.scores,
          labels: d.labels,
          goodLabel: 0,
          labelNames: ['good', 'scratch', 'blob'],
          maps: d.maps,
          masks: d.masks,
          h,
          w,
        });
        expect(all.imageAuroc).toBe(ours.imageAuroc);
        expect(all.aupro).toBe(ours.aupro);
        expect(all.perType.map((t) => t.name)).toEqual(['scratch', 'blob']);
        const rows = Array.from(d.labels.keys()).filter((i) => d.labels[i] !== 2);
        expect(all.perType[0].imageAuroc).toBe(
          rocAuc(
            rows.map((i) => d.scores[i]),
            rows.map((i) => d.labels[i] === 1),
          ),
        );
        expect(all.perType[0].good + all.perType[0].defective).toBe(rows.length);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
