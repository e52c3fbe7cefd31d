// Run folders written by earlier versions of the studio: the host parses run.json with the
// contract's schema, so a config saved before a setting existed gets that setting's default, and a
// config that is not one (a damaged file) lists the run as damaged, in plain words, untouched.
// Listing runs asks nothing of the trainer, so an emitter stands in for it (no request may reach it).
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRunsService } from '../../../../src-main/host/runs';
import type { TrainerSupervisor } from '../../../../src-main/trainer/supervisor';

/** run.json as the first versions wrote it: no kernel size, test split, left-out labels, balance, KL warm-up or augmentation. */
const oldRunJson = (runId: string, config: Record<string, unknown>) => ({
  runId,
  status: 'completed',
  config,
  dataset: { builtin: 'mnist', count: 1000 },
  epochsDone: 2,
  history: { loss: [0.2, null], valLoss: [0.21, null] },
  startedAt: 1_700_000_000_000,
});
const OLD_CONFIG = {
  kind: 'conv',
  inputShape: [28, 28, 1],
  latentDim: 16,
  hidden: [16, 32],
  activation: 'relu',
  outputActivation: 'sigmoid',
  loss: 'mse',
  optimizer: 'adam',
  learningRate: 0.001,
  momentum: 0.9,
  batchSize: 64,
  epochs: 2,
  validationSplit: 0.1,
  earlyStoppingPatience: 0,
  seed: 42,
  beta: 1,
  l1: 0.001,
  noise: { type: 'gaussian', level: 0.3 },
  previewEvery: 50,
};

function openWorkspace(files: Record<string, unknown>) {
  const workspaceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-stored-runs-'));
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(workspaceDir, rel)), { recursive: true });
    fs.writeFileSync(path.join(workspaceDir, rel), typeof content === 'string' ? content : JSON.stringify(content));
  }
  const requests: string[] = [];
  const trainer = Object.assign(new EventEmitter(), {
    request: async (method: string) => {
      requests.push(method);
      throw new Error('no trainer in this test');
    },
  });
  const service = createRunsService({
    trainer: trainer as unknown as TrainerSupervisor,
    workspaceDir,
    emit: () => undefined,
  });
  return { workspaceDir, service, requests };
}

describe('run.json from earlier versions', () => {
  it('loads a config saved before newer settings existed, with their defaults, and typed (no cast needed to read it)', async () => {
    const { service, requests } = openWorkspace({ 'runs/run-old/run.json': oldRunJson('run-old', OLD_CONFIG) });
    const [run] = await service.handlers['runs:list']({});
    expect(run.status).toBe('completed');
    expect(run.config).not.toBeNull();
    // the settings it had stay as they were; the ones it predates take the schema's defaults
    expect(run.config).toMatchObject({
      kind: 'conv',
      latentDim: 16,
      hidden: [16, 32],
      noise: { type: 'gaussian', level: 0.3 },
    });
    expect(run.config).toMatchObject({
      kernelSize: 3,
      testSplit: 0,
      excludeLabels: [],
      balanceClasses: false,
      klWarmupEpochs: 0,
    });
    expect(run.config?.augment).toEqual({ flip: false, shift: 0, rotate: 0, brightness: 0 });
    // a loss written as null (NaN in JSON) comes back as NaN, a missing validation loss stays null
    expect(run.history.loss[1]).toBeNaN();
    expect(run.history.valLoss).toEqual([0.21, null]);
    expect(requests).toEqual([]);
    service.dispose();
  });

  it('lists a run whose config is broken as damaged, says which setting in plain words, and leaves the folder as it was', async () => {
    const broken = oldRunJson('run-broken', { ...OLD_CONFIG, latentDim: 0 });
    const unknownKind = oldRunJson('run-gan', { ...OLD_CONFIG, kind: 'gan' });
    const { workspaceDir, service, requests } = openWorkspace({
      'runs/run-broken/run.json': broken,
      'runs/run-gan/run.json': unknownKind,
    });
    const before = fs.readFileSync(path.join(workspaceDir, 'runs/run-broken/run.json'), 'utf8');
    const list = await service.handlers['runs:list']({});
    const byId = Object.fromEntries(list.map((r) => [r.runId, r]));
    expect(byId['run-broken']).toMatchObject({ status: 'damaged', config: null });
    expect(byId['run-broken'].message).toMatch(/run\.json could not be read: .*config\.latentDim: must be at least 1/);
    expect(byId['run-gan'].message).toMatch(
      /config\.kind: must be one of dense, deep-dense, conv, vae, conv-vae, sparse/,
    );
    await expect(service.handlers['runs:resume']({ runId: 'run-broken' })).rejects.toThrow(/cannot be resumed/);
    expect(fs.readFileSync(path.join(workspaceDir, 'runs/run-broken/run.json'), 'utf8')).toBe(before);
    expect(fs.readdirSync(path.join(workspaceDir, 'runs/run-broken'))).toEqual(['run.json']);
    expect(requests).toEqual([]);
    service.dispose();
  });
});
