// Random-crop training (engine/crops.ts, config cropSize): each crop is cut from where its origin
// says, origins repeat for the same (seed, epoch, image) and change from epoch to epoch, a streamed
// dataset gives the same crops as the same pictures in memory, and a crop run trains (graph step, with
// noise and augmentation) on real pictures with a flat tensor count — in memory and streamed alike —
// and a resumed run trains on the same crops as a straight one.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../../src-main/engine/tf';
import { trainRun, validateConfig, type TrainingData } from '../../../../src-main/engine';
import { CropView, cropOrigin, FIXED_CROP_EPOCH } from '../../../../src-main/engine/crops';
import { mnist, tmpRunDir } from './helpers';

/** n pictures of h × w × 3 whose pixels say where they are: channel 0 = y, 1 = x, 2 = the picture. */
function positional(n: number, h: number, w: number): TrainingData & { images: Uint8Array } {
  const images = new Uint8Array(n * h * w * 3);
  for (let i = 0; i < n; i++)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) images.set([y, x, i], ((i * h + y) * w + x) * 3);
  return { images, count: n, shape: [h, w, 3], labels: Int32Array.from({ length: n }, (_, i) => i % 3) };
}

/** The same pictures behind a RowReader, as a dataset streamed from its file is (one buffer, reused). */
function streamed(ds: TrainingData & { images: Uint8Array }): TrainingData {
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2];
  let buf = new Uint8Array(0);
  return {
    ...ds,
    images: {
      readRows: (n, rowAt) => {
        if (buf.length < n * size) buf = new Uint8Array(n * size);
        for (let k = 0; k < n; k++) buf.set(ds.images.subarray(rowAt(k) * size, (rowAt(k) + 1) * size), k * size);
        return buf.subarray(0, n * size);
      },
    },
  };
}

describe('random crops', () => {
  it('cuts each crop where its origin says, the same for the same (seed, epoch, picture)', () => {
    const ds = positional(50, 40, 30);
    const view = new CropView(ds, 12, 7, 3);
    expect(view.shape).toEqual([12, 12, 3]);
    expect(view.count).toBe(50);
    const rows = [4, 0, 49, 4, 17];
    const px = view.images.readRows(rows.length, (k) => rows[k]).slice();
    rows.forEach((r, k) => {
      const [y0, x0] = view.origin(r);
      expect(view.origin(r)).toEqual(cropOrigin(7, 3, r, 40, 30, 12));
      expect(y0).toBeGreaterThanOrEqual(0);
      expect(y0).toBeLessThanOrEqual(40 - 12);
      expect(x0).toBeLessThanOrEqual(30 - 12);
      for (let y = 0; y < 12; y++)
        for (let x = 0; x < 12; x++) {
          const o = ((k * 12 + y) * 12 + x) * 3;
          expect([px[o], px[o + 1], px[o + 2]]).toEqual([y0 + y, x0 + x, r]);
        }
    });
    // the same seed and epoch, in another view: the same pixels
    const again = new CropView(ds, 12, 7, 3).images.readRows(rows.length, (k) => rows[k]);
    expect(Buffer.from(again).equals(Buffer.from(px))).toBe(true);
  });

  it('moves the crops from epoch to epoch and seed to seed, over the whole picture', () => {
    const n = 400;
    const origins = (seed: number, epoch: number) =>
      Array.from({ length: n }, (_, r) => cropOrigin(seed, epoch, r, 64, 64, 16).join(','));
    const e1 = origins(42, 1);
    const moved = (a: string[], b: string[]) => a.filter((o, i) => o !== b[i]).length / n;
    expect(moved(e1, origins(42, 2))).toBeGreaterThan(0.95);
    expect(moved(e1, origins(43, 1))).toBeGreaterThan(0.95);
    expect(moved(e1, origins(42, FIXED_CROP_EPOCH))).toBeGreaterThan(0.95);
    expect(origins(42, 1)).toEqual(e1);
    // every top and left from 0 to 48 comes up, each about as often (400 draws over 49 places)
    const ys = new Array(49).fill(0);
    for (let e = 1; e <= 10; e++) for (const o of origins(42, e)) ys[Number(o.split(',')[0])]++;
    expect(Math.min(...ys)).toBeGreaterThan(40);
    expect(Math.max(...ys)).toBeLessThan(130);
  });

  it('gives the same crops from a streamed dataset as from the pictures in memory', () => {
    const ds = positional(30, 24, 20);
    const rows = [3, 4, 5, 29, 0, 11, 11];
    for (const epoch of [0, 1, 5]) {
      const a = new CropView(ds, 8, 42, epoch).images.readRows(rows.length, (k) => rows[k]).slice();
      const b = new CropView(streamed(ds), 8, 42, epoch).images.readRows(rows.length, (k) => rows[k]);
      expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    }
  });

  it('refuses in plain words a crop bigger than the pictures, or one the model does not take', () => {
    const ds = positional(20, 24, 20);
    expect(() => new CropView(ds, 21, 1)).toThrow(/bigger than the dataset's pictures \(24×20\).*at most 20 px/);
    const bad = (cfg: object, shape: [number, number, number] = [24, 20, 3]) => {
      const r = validateConfig(cfg, { count: 20, shape });
      return r.ok ? [] : r.errors.map((e) => `${e.field}: ${e.message}`);
    };
    const base = { kind: 'conv', hidden: [8], latentDim: 8, batchSize: 4 };
    expect(bad({ ...base, inputShape: [16, 16, 3], cropSize: 16 })).toEqual([]);
    expect(bad({ ...base, inputShape: [32, 32, 3], cropSize: 32 })).toEqual([
      "cropSize: the crop (32×32) is bigger than the dataset's 24×20 pictures; choose at most 20 px",
    ]);
    expect(bad({ ...base, inputShape: [16, 16, 3], cropSize: 8 })).toEqual([
      'inputShape: the model trains on 8×8 crops, so its input must be 8×8×3 (it is 16×16×3)',
    ]);
    expect(bad({ ...base, inputShape: [4, 4, 3], cropSize: 4 })).toEqual([
      'cropSize: a crop must be at least 8 px a side (got 4)',
    ]);
    expect(bad({ ...base, inputShape: [16, 16, 1], cropSize: 16 })[0]).toMatch(
      /^inputShape: the model expects 1 channel but the dataset's pictures have 3/,
    );
    // without a crop, a bigger dataset is still a mismatch
    expect(bad({ ...base, inputShape: [16, 16, 3] })[0]).toMatch(/^inputShape: the model expects 16×16×3 images/);
  });

  it('trains on crops with noise and augmentation, in memory and streamed alike, with a flat tensor count', async () => {
    // 120 real digits, 28×28: the conv model takes 16×16 crops
    const digits = mnist(120);
    const ds = { ...digits, images: digits.images as Uint8Array };
    const config = {
      kind: 'conv',
      inputShape: [16, 16, 1],
      cropSize: 16,
      hidden: [8, 16],
      latentDim: 16,
      batchSize: 16,
      epochs: 2,
      validationSplit: 0.2,
      noise: { type: 'gaussian', level: 0.1 },
      augment: { flip: true, shift: 0.1, rotate: 0, brightness: 0.1 },
      previewEvery: 3,
    };
    const before = tf.memory().numTensors;
    const steps: string[] = [];
    let preview: number[] | undefined;
    const a = await trainRun({
      config,
      dataset: ds,
      runDir: tmpRunDir('crop-mem'),
      onEvent: (e) => {
        if (e.type === 'step') steps.push(e.step);
        if (e.type === 'preview' && !preview) preview = [e.originals.length, e.originals[0].length];
      },
    });
    expect(a.status).toBe('completed');
    expect(steps[0]).toBe('graph');
    expect(preview).toEqual([6, 16 * 16]);
    expect(tf.memory().numTensors).toBe(before);
    const b = await trainRun({ config, dataset: streamed(ds), runDir: tmpRunDir('crop-stream') });
    expect(b.status).toBe('completed');
    expect(b.history).toEqual(a.history);
    expect(tf.memory().numTensors).toBe(before);
    expect(a.history.valLoss.every((v) => v !== null && Number.isFinite(v))).toBe(true);
  }, 120_000);

  it('repeats its crops when resumed: a run stopped after epoch 1 and resumed trains as the straight run, bit for bit', async () => {
    const digits = mnist(120);
    const ds = { ...digits, images: digits.images as Uint8Array };
    const config = {
      kind: 'conv',
      inputShape: [16, 16, 1],
      cropSize: 16,
      hidden: [8, 16],
      latentDim: 16,
      batchSize: 16,
      epochs: 3,
      validationSplit: 0.2,
    };
    const straight = await trainRun({ config, dataset: ds, runDir: tmpRunDir('crop-straight') });
    const dir = tmpRunDir('crop-resumed');
    await trainRun({ config: { ...config, epochs: 1 }, dataset: ds, runDir: dir });
    const resumed = await trainRun({ config, dataset: ds, runDir: dir, resume: true });
    expect(resumed.status).toBe('completed');
    expect(resumed.history).toEqual(straight.history);
  }, 120_000);

  it('refuses to crop pictures held as fractions, in plain words', async () => {
    const digits = mnist(40);
    const ds = { ...digits, images: Float32Array.from(digits.images, (v) => v / 255) };
    const r = await trainRun({
      config: { kind: 'dense', inputShape: [16, 16, 1], cropSize: 16, hidden: [16], latentDim: 4, batchSize: 8 },
      dataset: ds,
      runDir: tmpRunDir('crop-float'),
    });
    expect(r.status).toBe('failed');
    expect(r.message).toMatch(/Random crops need pictures stored as 0–255 values/);
  });
});
