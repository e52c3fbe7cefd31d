// Inspection sets: the MVTec AD layout and "a folder of good pictures plus a folder of suspects".
//
//   <root>/train/good/*.png                      good pictures to train on
//   <root>/test/good/*.png                       good pictures to measure on (never trained on)
//   <root>/test/<defect>/<name>.png              defective pictures, one folder per defect type
//   <root>/ground_truth/<defect>/<name>_mask.png the defect's pixels (non-zero), same size as the picture
//
// Two datasets come out: the training set (label `good` only) and the test set (label `good` and
// one label per defect type, with a mask per picture — all zero for good ones — resized with
// nearest neighbour so it stays exactly 0 or 255 and aligned with its picture). Refused, in plain
// words and before anything is written: a test folder with no good pictures (nothing to measure
// false alarms on), a mask whose name matches no picture, a mask whose size is not its picture's,
// a defect folder whose pictures have masks only in part.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { RawDataset } from '../builtins';
import { decodeImage } from './decode';
import { DEFAULTS, IMAGE_EXT, type ImportOptions, type ImportReport, type SkippedFile } from './options';

export interface InspectionSet {
  layout: 'mvtec' | 'good-suspects';
  /** Good pictures only (label 0 = `good`). */
  train: RawDataset;
  /** Label 0 = `good`, then one label per defect type (or `suspect`), each picture with its mask. */
  test: RawDataset & { masks?: Uint8Array };
  report: ImportReport;
}

const isDir = (p: string) => {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** True when `dir` is laid out as MVTec AD: train/good and test/ folders. */
export function isMvtecLayout(dir: string): boolean {
  return isDir(path.join(dir, 'train', 'good')) && isDir(path.join(dir, 'test'));
}

/** Picture files of a folder (not recursive), sorted by name; other files are reported as skipped. */
function picturesIn(dir: string, skipped: SkippedFile[], root: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.')) continue;
    const rel = path.relative(root, path.join(dir, e.name));
    if (!e.isFile()) {
      if (e.isDirectory()) skipped.push({ file: rel, reason: 'a folder inside a picture folder (not read)' });
      continue;
    }
    if (IMAGE_EXT.has(path.extname(e.name).toLowerCase())) out.push(path.join(dir, e.name));
    else skipped.push({ file: rel, reason: 'not a picture' });
  }
  return out;
}

const stem = (f: string) => path.basename(f, path.extname(f));

/** The mask's pixels at size × size (0 or 255), resized with nearest neighbour; refuses a mask whose size is not its picture's. */
async function decodeMask(
  maskFile: string,
  picture: Buffer,
  pictureName: string,
  opts: ImportOptions,
): Promise<Uint8Array> {
  const bytes = fs.readFileSync(maskFile);
  const [pm, mm] = await Promise.all([
    sharp(picture).metadata(),
    sharp(bytes)
      .metadata()
      .catch(() => undefined),
  ]);
  if (!mm?.width || !mm.height) throw new Error(`The mask ${maskFile} is not a picture this studio can read.`);
  if (mm.width !== pm.width || mm.height !== pm.height) {
    throw new Error(
      `The mask ${maskFile} is ${mm.width}×${mm.height} but its picture ${pictureName} is ${pm.width}×${pm.height}; a mask must have its picture's size.`,
    );
  }
  const fit = opts.fit === 'crop' ? 'cover' : opts.fit === 'pad' ? 'contain' : 'fill';
  const { data } = await sharp(bytes)
    .flatten({ background: '#000000' })
    .grayscale()
    .resize(opts.size, opts.size, { fit, kernel: 'nearest', background: '#000000' })
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const out = new Uint8Array(opts.size * opts.size);
  // grayscale() of an RGB mask still has one channel; a mask with alpha was flattened above
  const ch = data.length / out.length;
  for (let p = 0; p < out.length; p++) out[p] = data[p * ch] > 127 ? 255 : 0;
  return out;
}

interface Item {
  file: string;
  label: string;
  mask?: string;
}

async function build(
  items: Item[],
  labelNames: string[],
  opts: ImportOptions,
  root: string,
  skipped: SkippedFile[],
  withMasks: boolean,
): Promise<RawDataset & { masks?: Uint8Array }> {
  const S = opts.size;
  const C = opts.mode === 'rgb' ? 3 : 1;
  const images = new Uint8Array(items.length * S * S * C);
  const masks = withMasks ? new Uint8Array(items.length * S * S) : undefined;
  const labels: number[] = [];
  let n = 0;
  for (const it of items) {
    const bytes = fs.readFileSync(it.file);
    let px: Uint8Array;
    try {
      px = await decodeImage(bytes, it.file, { ...DEFAULTS, ...opts });
    } catch (err) {
      if (it.mask)
        throw new Error(
          `The picture ${path.relative(root, it.file)} has a mask but cannot be read: ${(err as Error).message}`,
        );
      skipped.push({ file: path.relative(root, it.file), reason: (err as Error).message });
      continue;
    }
    if (masks && it.mask) masks.set(await decodeMask(it.mask, bytes, path.relative(root, it.file), opts), n * S * S);
    images.set(px, n * S * S * C);
    labels.push(labelNames.indexOf(it.label));
    n++;
  }
  return {
    images: images.subarray(0, n * S * S * C),
    labels: Int32Array.from(labels),
    labelNames,
    shape: [S, S, C],
    count: n,
    ...(masks ? { masks: masks.subarray(0, n * S * S) } : {}),
  };
}

function finish(train: RawDataset, test: RawDataset, skipped: SkippedFile[]): ImportReport {
  const labelCounts: Record<string, number> = {};
  for (const d of [train, test])
    for (const l of d.labels) labelCounts[d.labelNames[l]] = (labelCounts[d.labelNames[l]] ?? 0) + 1;
  return { imported: train.count + test.count, skipped, labelCounts };
}

/** Reads an MVTec AD folder (see the top of this file). Writes nothing. */
export async function importMvtec(root: string, opts: ImportOptions): Promise<InspectionSet> {
  const skipped: SkippedFile[] = [];
  const trainFiles = picturesIn(path.join(root, 'train', 'good'), skipped, root);
  if (!trainFiles.length) throw new Error(`${path.join(root, 'train', 'good')} has no pictures to train on.`);
  const testDir = path.join(root, 'test');
  const types = fs
    .readdirSync(testDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  if (!types.includes('good') || !picturesIn(path.join(testDir, 'good'), [], root).length) {
    throw new Error(
      `The test folder ${testDir} has no good pictures (test/good): without them nothing measures false alarms. Put some good pictures the model never trains on there.`,
    );
  }
  const defects = types.filter((t) => t !== 'good');
  const gtDir = path.join(root, 'ground_truth');
  const withMasks = isDir(gtDir);
  const items: Item[] = [];
  for (const t of ['good', ...defects]) {
    const files = picturesIn(path.join(testDir, t), skipped, root);
    const byStem = new Map(files.map((f) => [stem(f), f]));
    const masksHere = new Map<string, string>();
    const maskDir = path.join(gtDir, t);
    if (t !== 'good' && withMasks && isDir(maskDir)) {
      for (const m of picturesIn(maskDir, skipped, root)) {
        const s = stem(m);
        const name = s.endsWith('_mask') ? s.slice(0, -5) : s;
        if (!byStem.has(name))
          throw new Error(
            `The mask ${m} matches no picture in ${path.join(testDir, t)} (a mask is named <picture>_mask.png, e.g. 000.png → 000_mask.png).`,
          );
        masksHere.set(name, m);
      }
      const missing = files.filter((f) => !masksHere.has(stem(f)));
      if (masksHere.size && missing.length) {
        throw new Error(
          `${missing.length} defective picture(s) in ${path.join(testDir, t)} have no mask in ${maskDir}, e.g. ${path.basename(missing[0])} (expected ${stem(missing[0])}_mask.png).`,
        );
      }
    }
    for (const f of files) items.push({ file: f, label: t, mask: masksHere.get(stem(f)) });
  }
  const train = await build(
    trainFiles.map((file) => ({ file, label: 'good' })),
    ['good'],
    opts,
    root,
    skipped,
    false,
  );
  const test = await build(items, ['good', ...defects], opts, root, skipped, withMasks);
  if (!train.count) throw new Error(`None of the pictures in ${path.join(root, 'train', 'good')} could be read.`);
  if (!test.labels.some((l) => l === 0))
    throw new Error(`None of the good test pictures in ${path.join(testDir, 'good')} could be read.`);
  return { layout: 'mvtec', train, test, report: finish(train, test, skipped) };
}

/** A folder of good pictures to train on and a folder of suspects to score (no masks, label `suspect`). Writes nothing. */
export async function importGoodAndSuspects(
  goodDir: string,
  suspectDir: string,
  opts: ImportOptions,
): Promise<InspectionSet> {
  const skipped: SkippedFile[] = [];
  if (!isDir(goodDir)) throw new Error(`${goodDir} is not a folder of good pictures.`);
  if (!isDir(suspectDir)) throw new Error(`${suspectDir} is not a folder of pictures to inspect.`);
  const good = picturesIn(goodDir, skipped, goodDir);
  if (good.length < 2)
    throw new Error(`${goodDir} has ${good.length} picture(s); training needs good pictures (dozens at least).`);
  const suspects = picturesIn(suspectDir, skipped, suspectDir);
  if (!suspects.length) throw new Error(`${suspectDir} has no pictures to inspect.`);
  const train = await build(
    good.map((file) => ({ file, label: 'good' })),
    ['good'],
    opts,
    goodDir,
    skipped,
    false,
  );
  const test = await build(
    suspects.map((file) => ({ file, label: 'suspect' })),
    ['good', 'suspect'],
    opts,
    suspectDir,
    skipped,
    false,
  );
  return { layout: 'good-suspects', train, test, report: finish(train, test, skipped) };
}
