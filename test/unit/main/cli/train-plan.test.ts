// `ae-studio train`'s checks before anything starts (cli/train.ts planTrain), for random crops:
// `--crop N` sets the config's cropSize and makes the model's input N×N, `--crop 0` trains whole
// pictures, a crop that does not fit the pictures is refused in plain words; the inspection preset
// picks its crop from the pictures' size (contract/inspection.ts inspectionCrop).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { planTrain } from '../../../../src-main/cli/train';
import { inspectionCrop, inspectionPreset } from '../../../../src-main/contract/inspection';
import { cornersDataset } from '../host/helpers';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function setup() {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-plan-'));
  dirs.push(ws);
  const id = await cornersDataset(ws); // 100 pictures of 12×12×1
  const config = path.join(ws, 'run.json');
  fs.writeFileSync(config, JSON.stringify({ kind: 'dense', hidden: [16], latentDim: 4, batchSize: 8 }));
  return { ws, id, config };
}
const plan = (o: { ws: string; id: string; config: string }, crop?: string) =>
  planTrain({ workspace: o.ws, dataset: o.id, config: o.config, crop, json: true, verbose: false, trainerEntry: '' });

describe('train --crop', () => {
  it('sets the crop and the model input, or whole pictures with --crop 0', async () => {
    const o = await setup();
    const p = plan(o, '8');
    expect('start' in p && p.start.config).toMatchObject({ cropSize: 8, inputShape: [8, 8, 1] });
    const whole = plan(o, '0');
    expect('start' in whole && whole.start.config).toMatchObject({ cropSize: 0, inputShape: [12, 12, 1] });
    const none = plan(o);
    expect('start' in none && none.start.config.cropSize).toBeUndefined();
  });

  it('refuses a crop that does not fit the pictures, in plain words', async () => {
    const o = await setup();
    for (const bad of ['13', '4', 'x', '8.5', '-1'])
      expect(() => plan(o, bad), bad).toThrow(
        /^--crop must be a whole number of pixels from 8 to 12 \(the side of the pictures in .*\), or 0 for whole pictures\.$/,
      );
  });

  it('the inspection preset trains crops of 64 px from 256 px pictures, 128 px from 512 px, none below', () => {
    expect([128, 255, 256, 511, 512, 1024].map((s) => inspectionCrop([s, s, 3]))).toEqual([0, 0, 64, 64, 128, 128]);
    expect(inspectionCrop([256, 600, 1])).toBe(64);
    expect(inspectionPreset([512, 512, 3])).toMatchObject({
      cropSize: 128,
      inputShape: [128, 128, 3],
      hidden: [32, 64, 128],
    });
    expect(inspectionPreset([64, 64, 1])).toMatchObject({ inputShape: [64, 64, 1] });
    expect(inspectionPreset([64, 64, 1]).cropSize).toBeUndefined();
  });
});
