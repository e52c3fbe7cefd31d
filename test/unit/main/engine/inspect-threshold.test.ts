// A threshold moved on the Inspect panel's histogram, saved into model/inspection.json: method
// `manual` with the measured one kept (through later moves too); refused, writing nothing, for a
// run with no calibration, a file of another run or other weights, or a value that is no number.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  modelFingerprint,
  saveInspection,
  setThreshold,
  type InspectionFile,
} from '../../../../src-main/engine/inspect/calibration';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function modelDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-threshold-'));
  dirs.push(d);
  for (const part of ['encoder', 'decoder']) {
    fs.mkdirSync(path.join(d, part));
    fs.writeFileSync(path.join(d, part, 'model.json'), `{"${part}":1}`);
    fs.writeFileSync(path.join(d, part, 'weights.bin'), Buffer.from([1, 2, 3, part.length]));
  }
  return d;
}
const file = (dir: string, run: string): InspectionFile => ({
  format: 'ae-studio-inspection',
  version: 1,
  run,
  model: modelFingerprint(dir),
  settings: { map: 'ssim', smoothSigma: 2, topkPercent: 1, score: 'topk' },
  norm: null,
  threshold: { value: 0.8, method: 'f1', f1: 0.9 },
  goodValidation: 4,
  createdAt: new Date(0).toISOString(),
});
const read = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'inspection.json'), 'utf8')) as InspectionFile;

describe('setThreshold', () => {
  it('saves a manual threshold and keeps the measured one through later moves', () => {
    const d = modelDir();
    saveInspection(d, file(d, 'run-a'));
    expect(setThreshold(d, 'run-a', 1.25)).toEqual({
      value: 1.25,
      method: 'manual',
      measured: { value: 0.8, method: 'f1' },
    });
    setThreshold(d, 'run-a', 2);
    const f = read(d);
    expect(f.threshold).toEqual({ value: 2, method: 'manual', measured: { value: 0.8, method: 'f1' } });
    expect(f.settings).toEqual(file(d, 'run-a').settings);
    expect(f).not.toHaveProperty('normStats');
  });
  it('refuses, writing nothing, without a calibration, for another run or other weights, and for a non-number', () => {
    const d = modelDir();
    expect(() => setThreshold(d, 'run-a', 1)).toThrow(/not been calibrated for inspection yet/);
    expect(fs.existsSync(path.join(d, 'inspection.json'))).toBe(false);
    saveInspection(d, file(d, 'run-b'));
    const before = fs.readFileSync(path.join(d, 'inspection.json'), 'utf8');
    expect(() => setThreshold(d, 'run-a', 1)).toThrow(/belongs to run 'run-b'/);
    expect(() => setThreshold(d, 'run-b', Number.NaN)).toThrow(/finite number/);
    fs.writeFileSync(path.join(d, 'decoder', 'weights.bin'), Buffer.from([9]));
    expect(() => setThreshold(d, 'run-b', 1)).toThrow(/other weights/);
    expect(fs.readFileSync(path.join(d, 'inspection.json'), 'utf8')).toBe(before);
  });
});
