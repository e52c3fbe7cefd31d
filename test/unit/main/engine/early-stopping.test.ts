// Early stopping's two small rules, on their own: the best monitored loss and the epochs since it,
// and when the run ends early.
import { describe, expect, it } from 'vitest';
import { stopsEarly, trackBest } from '../../../../src-main/engine/train';

describe('early stopping', () => {
  it('keeps the best loss and counts the epochs without a better one (a tie is no improvement)', () => {
    const s = { bestValLoss: null as number | null, sinceBest: 0 };
    for (const [loss, best, since] of [
      [0.5, 0.5, 0],
      [0.4, 0.4, 0],
      [0.4, 0.4, 1],
      [0.45, 0.4, 2],
      [0.3, 0.3, 0],
    ] as const) {
      trackBest(s, loss);
      expect([s.bestValLoss, s.sinceBest]).toEqual([best, since]);
    }
  });

  it('stops once patience epochs passed without improvement, never with patience 0 or at the last epoch', () => {
    expect(stopsEarly({ sinceBest: 2 }, { earlyStoppingPatience: 2, epochs: 10 }, 5)).toBe(true);
    expect(stopsEarly({ sinceBest: 1 }, { earlyStoppingPatience: 2, epochs: 10 }, 5)).toBe(false);
    expect(stopsEarly({ sinceBest: 9 }, { earlyStoppingPatience: 0, epochs: 10 }, 5)).toBe(false);
    expect(stopsEarly({ sinceBest: 3 }, { earlyStoppingPatience: 2, epochs: 10 }, 10)).toBe(false);
  });
});
