// The on-disk dataset store: <workspace>/datasets/<id>/ holds images.u8 (N·H·W·C uint8),
// labels.i32 (little-endian), mean.u8 (the mean image) and manifest.json (schema version, name,
// source, shape, counts per label). Written atomically; loads straight into a typed array.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { writeDirAtomic, writeJsonAtomic } from '../fs-safety/atomic';
import type { Dataset, RowReader, StreamedDataset } from '../engine/data';
import type { RawDataset } from './builtins';
import { DatasetManifest, type DatasetEntry } from '../contract/datasets';
import { plainIssue } from '../contract/model-validate';

/** A missing dataset: code ENOENT, so the host and the trainer report it as `not_found`. */
const notFound = (message: string) => Object.assign(new Error(message), { code: 'ENOENT' });

export const DATASET_SCHEMA_VERSION = 1;

export { DatasetManifest };

/** Rows of a dataset that a trained run generated: which run, which sampler, which label. */
export type GeneratedRange = NonNullable<DatasetManifest['generated']>[number];

/** Which rows of a dataset are generated (a mask over its count). */
export function generatedMask(m: Pick<DatasetManifest, 'count' | 'generated'>): Uint8Array {
  const mask = new Uint8Array(m.count);
  for (const g of m.generated ?? []) mask.fill(1, Math.max(0, g.from), Math.min(m.count, g.from + g.count));
  return mask;
}

/** A listed dataset, or one whose manifest could not be read (flagged, the rest still listed). */
export type { DatasetEntry };

const datasetsDir = (ws: string) => path.join(ws, 'datasets');
const ID_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A display name with control characters removed and length capped; any script is fine. */
export function sanitizeName(name: string): string {
  const clean = name
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
    .replace(/[\u0000-\u001f\u007f/\\]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 80);
  if (!clean) throw new Error('A dataset name cannot be empty.');
  return clean;
}

/** A folder-safe id from a name: ascii slug + random suffix (names in any script still get an id). */
export function makeId(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${slug || 'dataset'}-${crypto.randomBytes(3).toString('hex')}`;
}

function datasetPath(ws: string, id: string): string {
  if (!ID_RE.test(id)) throw new Error(`'${id}' is not a dataset id.`);
  return path.join(datasetsDir(ws), id);
}

function meanImage(d: RawDataset): Uint8Array {
  const size = d.shape[0] * d.shape[1] * d.shape[2];
  const sum = new Float64Array(size);
  for (let i = 0; i < d.count; i++) for (let j = 0; j < size; j++) sum[j] += d.images[i * size + j];
  return Uint8Array.from(sum, (v) => Math.round(v / Math.max(1, d.count)));
}

export async function writeDataset(
  ws: string,
  name: string,
  d: RawDataset,
  source: DatasetManifest['source'],
  extra: {
    options?: DatasetManifest['options'];
    report?: DatasetManifest['report'];
    id?: string;
    inspection?: DatasetManifest['inspection'];
    masks?: Uint8Array;
    generated?: Omit<GeneratedRange, 'from' | 'count'>;
  } = {},
): Promise<DatasetManifest> {
  const clean = sanitizeName(name);
  const id = extra.id ?? makeId(clean);
  if (extra.masks && extra.masks.length !== d.count * d.shape[0] * d.shape[1])
    throw new Error(
      `masks.u8 would hold ${extra.masks.length} bytes for ${d.count} images of ${d.shape[0]}×${d.shape[1]}`,
    );
  const labelCounts = d.labelNames.map(() => 0);
  for (const l of d.labels) labelCounts[l]++;
  const manifest: DatasetManifest = {
    schemaVersion: DATASET_SCHEMA_VERSION,
    id,
    name: clean,
    source,
    shape: d.shape,
    count: d.count,
    labelNames: d.labelNames,
    labelCounts,
    createdAt: Date.now(),
    options: extra.options ?? { validationSplit: 0.1, seed: 42 },
    ...(extra.report ? { report: extra.report } : {}),
    ...(extra.generated ? { generated: [{ from: 0, count: d.count, ...extra.generated }] } : {}),
    ...(extra.inspection ? { inspection: extra.inspection } : {}),
  };
  await writeDirAtomic(datasetPath(ws, id), async (tmp) => {
    fs.writeFileSync(path.join(tmp, 'images.u8'), d.images);
    if (extra.masks) fs.writeFileSync(path.join(tmp, 'masks.u8'), extra.masks);
    fs.writeFileSync(
      path.join(tmp, 'labels.i32'),
      Buffer.from(d.labels.buffer, d.labels.byteOffset, d.labels.byteLength),
    );
    fs.writeFileSync(path.join(tmp, 'mean.u8'), meanImage(d));
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2));
  });
  return manifest;
}

function readManifest(dir: string, id: string): DatasetManifest {
  if (!fs.existsSync(dir)) throw notFound(`There is no dataset '${id}' in this workspace (deleted?).`);
  const raw: unknown = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const version = raw && typeof raw === 'object' && 'schemaVersion' in raw ? raw.schemaVersion : undefined;
  if (version !== DATASET_SCHEMA_VERSION) throw new Error(`unknown manifest schema version ${String(version)}`);
  const parsed = DatasetManifest.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`the manifest does not describe a dataset (${i.path.join('.') || 'the file'}: ${plainIssue(i)})`);
  }
  const m = parsed.data;
  if (m.id !== id) throw new Error('the manifest does not describe this folder');
  const size = m.shape[0] * m.shape[1] * m.shape[2];
  const bytes = fs.statSync(path.join(dir, 'images.u8')).size;
  if (bytes !== m.count * size) throw new Error(`images.u8 has ${bytes} bytes, the manifest expects ${m.count * size}`);
  return m;
}

/** Every dataset in the workspace, newest first; damaged ones are flagged, not dropped. */
export function listDatasets(ws: string): DatasetEntry[] {
  const dir = datasetsDir(ws);
  if (!fs.existsSync(dir)) return [];
  const out: DatasetEntry[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || !ID_RE.test(e.name)) continue; // skips .tmp-/.old folders
    try {
      out.push(readManifest(path.join(dir, e.name), e.name));
    } catch (err) {
      out.push({ id: e.name, error: `This dataset cannot be read: ${(err as Error).message}` });
    }
  }
  return out.sort((a, b) => ('createdAt' in b ? b.createdAt : 0) - ('createdAt' in a ? a.createdAt : 0));
}

/**
 * The stored dataset a user means by `name`: its id, or else its name (any case; the newest of
 * that name). Undefined when there is none; damaged datasets are never picked.
 */
export function findDatasetId(ws: string, name: string): string | undefined {
  const stored = listDatasets(ws).filter((d): d is DatasetManifest => !('error' in d));
  return (stored.find((d) => d.id === name) ?? stored.find((d) => d.name.toLowerCase() === name.toLowerCase()))?.id;
}

/** What `ae-studio` lists when a dataset name is unknown: each stored dataset as "id (name)". */
export function describeStoredDatasets(ws: string): string {
  const stored = listDatasets(ws).filter((d): d is DatasetManifest => !('error' in d));
  return stored.map((d) => `${d.id} (${d.name})`).join(', ') || '(none stored)';
}

/**
 * Writes an inspection set (datasets/import/mvtec.ts) as two datasets that name each other: `name`
 * (the good pictures to train on) and `name (test)` (the pictures never trained on, with masks).
 */
export async function writeInspectionSet(
  ws: string,
  name: string,
  set: {
    layout: 'mvtec' | 'good-suspects';
    train: RawDataset;
    test: RawDataset & { masks?: Uint8Array };
    report: DatasetManifest['report'];
  },
  source: DatasetManifest['source'],
  options: DatasetManifest['options'],
): Promise<{ train: DatasetManifest; test: DatasetManifest }> {
  const clean = sanitizeName(name);
  const trainId = makeId(clean);
  const testId = makeId(`${clean}-test`);
  const base = { role: 'train' as const, goodLabel: 0, layout: set.layout };
  const test = await writeDataset(ws, `${clean} (test)`, set.test, source, {
    options,
    id: testId,
    inspection: { ...base, role: 'test', pair: trainId, masks: !!set.test.masks },
    masks: set.test.masks,
  });
  const train = await writeDataset(ws, clean, set.train, source, {
    options,
    report: set.report,
    id: trainId,
    inspection: { ...base, pair: testId, masks: false },
  });
  return { train, test };
}

/** A test set's masks (N·H·W, 0 or 255), or undefined when it has none. */
export function loadMasks(ws: string, id: string): Uint8Array | undefined {
  const dir = datasetPath(ws, id);
  const m = readManifest(dir, id);
  if (!m.inspection?.masks) return undefined;
  const buf = fs.readFileSync(path.join(dir, 'masks.u8'));
  if (buf.length !== m.count * m.shape[0] * m.shape[1])
    throw new Error(
      `masks.u8 of dataset '${id}' has ${buf.length} bytes, the manifest expects ${m.count * m.shape[0] * m.shape[1]}`,
    );
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Loads a dataset straight into typed arrays for training. */
export function loadDataset(ws: string, id: string): Dataset & { manifest: DatasetManifest } {
  const dir = datasetPath(ws, id);
  const manifest = readManifest(dir, id);
  const img = fs.readFileSync(path.join(dir, 'images.u8'));
  const lab = fs.readFileSync(path.join(dir, 'labels.i32'));
  const images = new Uint8Array(img.buffer, img.byteOffset, img.byteLength);
  const labels = new Int32Array(lab.buffer.slice(lab.byteOffset, lab.byteOffset + lab.byteLength));
  return { images, labels, count: manifest.count, shape: manifest.shape, manifest };
}

/** A stored dataset's manifest alone (checked against its files), without reading its images. */
export function readDatasetManifest(ws: string, id: string): DatasetManifest {
  return readManifest(datasetPath(ws, id), id);
}

/**
 * Image files above this size are not read into memory for training: `openDataset` leaves them on
 * disk and the trainer reads each batch from the file (the operating system caches it, so it is
 * read from disk once while there is memory to spare, and never counts against the trainer's own).
 * 60,000 64×64 colour pictures are 737 MB; 60,000 MNIST digits are 47 MB and stay in memory.
 */
export const STREAM_ABOVE_BYTES = 256 * 2 ** 20;

/**
 * A stored dataset's images.u8, read a few rows at a time (engine/data.ts RowReader): one read per
 * run of consecutive rows into a buffer that is reused from batch to batch. Holds the file open until
 * `close` (on Linux and macOS a dataset deleted meanwhile stays readable to it).
 */
export class RowFile implements RowReader {
  private fd: number | undefined;
  private buf = new Uint8Array(0);

  constructor(
    private readonly file: string,
    /** Bytes per image (H·W·C). */
    private readonly rowBytes: number,
    /** Rows the file holds. */
    private readonly rows: number,
  ) {
    this.fd = fs.openSync(file, 'r');
  }

  readRows(n: number, rowAt: (k: number) => number): Uint8Array {
    if (this.fd === undefined) throw new Error(`${path.basename(this.file)} was closed while a run still reads it.`);
    const size = this.rowBytes;
    if (this.buf.length < n * size) this.buf = new Uint8Array(n * size);
    const out = this.buf.subarray(0, n * size);
    for (let k = 0; k < n;) {
      const first = rowAt(k);
      if (!(first >= 0 && first < this.rows))
        throw new RangeError(`row ${first} is outside the dataset (${this.rows} images)`);
      let run = 1;
      while (k + run < n && rowAt(k + run) === first + run && first + run < this.rows) run++;
      const bytes = run * size;
      const got = fs.readSync(this.fd, out, k * size, bytes, first * size);
      if (got !== bytes)
        throw new Error(
          `The dataset's image file ${this.file} ended early (it changed or was cut short while training read it).`,
        );
      k += run;
    }
    return out;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * A stored dataset for training: its images in memory (as `loadDataset`) when images.u8 is at most
 * `streamAbove` bytes, else read from the file batch by batch through a {@link RowFile}. `close()`
 * releases the file (a no-op for a dataset in memory).
 */
export function openDataset(
  ws: string,
  id: string,
  streamAbove = STREAM_ABOVE_BYTES,
): (Dataset | StreamedDataset) & { manifest: DatasetManifest; close(): void } {
  const dir = datasetPath(ws, id);
  const manifest = readManifest(dir, id);
  const size = manifest.shape[0] * manifest.shape[1] * manifest.shape[2];
  if (manifest.count * size <= streamAbove) return { ...loadDataset(ws, id), close: () => undefined };
  const lab = fs.readFileSync(path.join(dir, 'labels.i32'));
  const labels = new Int32Array(lab.buffer.slice(lab.byteOffset, lab.byteOffset + lab.byteLength));
  const images = new RowFile(path.join(dir, 'images.u8'), size, manifest.count);
  return { images, labels, count: manifest.count, shape: manifest.shape, manifest, close: () => images.close() };
}

/**
 * n images for a preview grid, taken from every label in turn (the first of each label, then the
 * second…), so a dataset sorted by label does not show one label only; with their labels and the
 * mean image.
 */
export function previewDataset(
  ws: string,
  id: string,
  n: number,
): { manifest: DatasetManifest; images: Uint8Array[]; labels: number[]; mean: Uint8Array } {
  const dir = datasetPath(ws, id);
  const manifest = readManifest(dir, id);
  const size = manifest.shape[0] * manifest.shape[1] * manifest.shape[2];
  let labels: Int32Array;
  try {
    const lab = fs.readFileSync(path.join(dir, 'labels.i32'));
    labels = new Int32Array(
      lab.buffer.slice(lab.byteOffset, lab.byteOffset + Math.min(lab.byteLength, manifest.count * 4)),
    );
  } catch {
    labels = new Int32Array(0);
  }
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < manifest.count; i++) {
    const l = labels[i] ?? 0;
    let list = byLabel.get(l);
    if (!list) byLabel.set(l, (list = []));
    if (list.length < n) list.push(i);
  }
  const groups = [...byLabel.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  const picked: number[] = [];
  for (let round = 0; picked.length < Math.min(n, manifest.count); round++) {
    for (const g of groups) if (round < g.length && picked.length < n) picked.push(g[round]);
  }
  picked.sort((a, b) => a - b);
  const images = readImagesAt(dir, picked, size);
  return {
    manifest,
    images,
    labels: picked.map((i) => labels[i] ?? 0),
    mean: new Uint8Array(fs.readFileSync(path.join(dir, 'mean.u8'))),
  };
}

export function deleteDataset(ws: string, id: string): void {
  const dir = datasetPath(ws, id);
  if (!fs.existsSync(dir)) throw notFound(`There is no dataset '${id}'.`);
  const trash = `${dir}.deleting-${process.pid}`;
  fs.renameSync(dir, trash); // disappears from the list at once, atomically
  fs.rmSync(trash, { recursive: true, force: true });
}

export function renameDataset(ws: string, id: string, name: string): DatasetManifest {
  const dir = datasetPath(ws, id);
  const m = readManifest(dir, id);
  const renamed = { ...m, name: sanitizeName(name) };
  writeJsonAtomic(path.join(dir, 'manifest.json'), renamed);
  return renamed;
}

function readLabels(dir: string, count: number): Int32Array {
  const lab = fs.readFileSync(path.join(dir, 'labels.i32'));
  return new Int32Array(lab.buffer.slice(lab.byteOffset, lab.byteOffset + Math.min(lab.byteLength, count * 4)));
}

/** One page of a dataset's images (one label's, or all), with their positions in the dataset. */
export function pageDataset(
  ws: string,
  id: string,
  q: { label?: number; offset: number; limit: number },
): {
  total: number;
  offset: number;
  indices: number[];
  labels: number[];
  images: Uint8Array[];
  shape: [number, number, number];
} {
  const dir = datasetPath(ws, id);
  const m = readManifest(dir, id);
  const size = m.shape[0] * m.shape[1] * m.shape[2];
  const labels = readLabels(dir, m.count);
  const matching: number[] = [];
  for (let i = 0; i < m.count; i++) if (q.label === undefined || labels[i] === q.label) matching.push(i);
  const indices = matching.slice(q.offset, q.offset + q.limit);
  const images = readImagesAt(dir, indices, size);
  return {
    total: matching.length,
    offset: q.offset,
    indices,
    labels: indices.map((i) => labels[i]),
    images,
    shape: m.shape,
  };
}

/** Rewrites a dataset in place (atomically) with new images and labels; the label names may grow. */
async function rewriteDataset(
  ws: string,
  id: string,
  m: DatasetManifest,
  d: RawDataset,
  report?: DatasetManifest['report'],
): Promise<DatasetManifest> {
  if (m.inspection?.masks)
    throw new Error(
      `'${m.name}' is an inspection test set with masks: its pictures cannot be removed or added one by one (import the folder again instead).`,
    );
  const labelCounts = d.labelNames.map(() => 0);
  for (const l of d.labels) labelCounts[l]++;
  const next: DatasetManifest = {
    ...m,
    count: d.count,
    labelNames: d.labelNames,
    labelCounts,
    ...(report ? { report } : {}),
  };
  await writeDirAtomic(datasetPath(ws, id), async (tmp) => {
    fs.writeFileSync(path.join(tmp, 'images.u8'), d.images);
    fs.writeFileSync(
      path.join(tmp, 'labels.i32'),
      Buffer.from(d.labels.buffer, d.labels.byteOffset, d.labels.byteLength),
    );
    fs.writeFileSync(path.join(tmp, 'mean.u8'), meanImage(d));
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(next, null, 2));
  });
  return next;
}

/** Removes images by position; the others keep their order. At least one image must stay. */
export async function removeImages(ws: string, id: string, remove: number[]): Promise<DatasetManifest> {
  const dir = datasetPath(ws, id);
  const m = readManifest(dir, id);
  const gone = new Set(remove.filter((i) => Number.isInteger(i) && i >= 0 && i < m.count));
  if (!gone.size) throw new Error('None of those images is in the dataset.');
  if (gone.size >= m.count) throw new Error('A dataset keeps at least one image; delete the dataset instead.');
  const { images, labels } = loadDataset(ws, id);
  const size = m.shape[0] * m.shape[1] * m.shape[2];
  const n = m.count - gone.size;
  const outImages = new Uint8Array(n * size);
  const outLabels = new Int32Array(n);
  let k = 0;
  for (let i = 0; i < m.count; i++) {
    if (gone.has(i)) continue;
    outImages.set((images as Uint8Array).subarray(i * size, (i + 1) * size), k * size);
    outLabels[k++] = (labels as Int32Array)[i];
  }
  // generated ranges follow their rows: each range keeps the rows of it that stay
  const generated = (m.generated ?? [])
    .map((g) => {
      let before = 0;
      let kept = 0;
      for (const i of gone) {
        if (i < g.from) before++;
        else if (i < g.from + g.count) kept++;
      }
      return { ...g, from: g.from - before, count: g.count - kept };
    })
    .filter((g) => g.count > 0);
  return rewriteDataset(
    ws,
    id,
    { ...m, ...(m.generated ? { generated } : {}) },
    { images: outImages, labels: outLabels, labelNames: m.labelNames, shape: m.shape, count: n },
  );
}

/**
 * Adds imported images (of the dataset's shape) at the end; labels are matched by name, new ones
 * added. With `generated`, the new rows are marked as generated by that run.
 */
export async function appendToDataset(
  ws: string,
  id: string,
  add: RawDataset,
  report?: DatasetManifest['report'],
  generated?: Omit<GeneratedRange, 'from' | 'count'>,
): Promise<DatasetManifest> {
  const dir = datasetPath(ws, id);
  const m = readManifest(dir, id);
  if (add.shape.join('x') !== m.shape.join('x'))
    throw new Error(`the new images are ${add.shape.join('×')}, the dataset's ${m.shape.join('×')}`);
  const { images, labels } = loadDataset(ws, id);
  const names = [...m.labelNames];
  const map = add.labelNames.map((name) => {
    const at = names.indexOf(name);
    return at >= 0 ? at : names.push(name) - 1;
  });
  const n = m.count + add.count;
  const outImages = new Uint8Array(n * add.shape[0] * add.shape[1] * add.shape[2]);
  outImages.set(images as Uint8Array, 0);
  outImages.set(add.images, (images as Uint8Array).length);
  const outLabels = new Int32Array(n);
  outLabels.set(labels as Int32Array, 0);
  for (let i = 0; i < add.count; i++) outLabels[m.count + i] = map[add.labels[i]];
  const marked = generated
    ? { ...m, generated: [...(m.generated ?? []), { from: m.count, count: add.count, ...generated }] }
    : m;
  return rewriteDataset(
    ws,
    id,
    marked,
    { images: outImages, labels: outLabels, labelNames: names, shape: m.shape, count: n },
    report,
  );
}

/** The images at `indices` of a dataset folder's images.u8 (each `size` bytes), read one by one without loading the whole file. */
function readImagesAt(dir: string, indices: number[], size: number): Uint8Array[] {
  const fd = fs.openSync(path.join(dir, 'images.u8'), 'r');
  try {
    return indices.map((i) => {
      const buf = Buffer.alloc(size);
      fs.readSync(fd, buf, 0, size, i * size);
      return new Uint8Array(buf.buffer, buf.byteOffset, size);
    });
  } finally {
    fs.closeSync(fd);
  }
}
