// The import pipeline: folders, image files and zip archives → one uint8 dataset.
// Sub-folder names become labels. Every file that cannot be used is skipped with its reason while
// the rest imports: empty, truncated or corrupt files, non-images, unsupported types, declared
// sizes over the pixel limit (refused from the header, before decoding), zip entries with `..`
// or absolute paths, nested archives, symlinks that loop or leave the dropped folder, unreadable
// files. Decoding uses sharp (libvips; PNG 8/16-bit, palette, alpha, JPEG with EXIF orientation,
// GIF first frame, WebP); BMP, which sharp does not read, goes through tfjs-node's decoder.
// MNIST-style IDX files (also .gz) and NumPy .npy / .npz arrays are read as image stacks.
//
// The parts: options.ts (what an import takes and reports, limits), walk.ts (folders and files),
// zip.ts (archives and their limits), decode.ts (one image), idx.ts and npy.ts (image stacks).
import fs from 'node:fs';
import path from 'node:path';
import type { RawDataset } from '../builtins';
import {
  DEFAULTS,
  ImportCancelled,
  describeFsError,
  type ImportOptions,
  type ImportReport,
  type SkippedFile,
  type Source,
} from './options';
import { addFile, walkDir, type Stack } from './walk';
import { convertStack, decodeImage } from './decode';

/** Files decoded between two turns of the event loop (see the decoding loop below). */
const BREATHE = 64;

export {
  ImportCancelled,
  type ImportOptions,
  type ImportProgress,
  type ImportReport,
  type SkippedFile,
} from './options';
export { decodeImage, plainDecodeError } from './decode';
export { parseIdx } from './idx';
export { parseNpy } from './npy';

/** Imports paths (folders, files, zips); returns the dataset and the report. Writes nothing. */
export async function importPaths(
  paths: string[],
  options: ImportOptions,
): Promise<{ dataset: RawDataset; report: ImportReport }> {
  const opts = { ...DEFAULTS, ...options };
  if (!Number.isInteger(opts.size) || opts.size < 4 || opts.size > 512)
    throw new Error('size must be a whole number from 4 to 512');
  const skipped: SkippedFile[] = [];
  const sources: Source[] = [];
  const stacks: Stack[] = [];

  for (const p of paths) {
    const abs = path.resolve(p);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch (err) {
      skipped.push({ file: p, reason: describeFsError(err) });
      continue;
    }
    if (st.isDirectory()) await walkDir(abs, abs, sources, stacks, skipped, opts);
    else if (!st.isFile())
      skipped.push({ file: p, reason: 'not a regular file (a device, FIFO or socket is never read)' });
    else await addFile(abs, path.basename(abs), '', sources, stacks, skipped, opts);
  }

  if (opts.limit !== undefined) {
    let room = opts.limit;
    for (const s of stacks) {
      s.count = Math.min(s.count, room);
      room -= s.count;
    }
    // a preview shows every label: take the files of each label in turn
    const byLabel = new Map<string, Source[]>();
    for (const src of sources) {
      let list = byLabel.get(src.label);
      if (!list) byLabel.set(src.label, (list = []));
      list.push(src);
    }
    const groups = [...byLabel.values()];
    const picked: Source[] = [];
    for (let round = 0; picked.length < Math.max(0, room) && groups.some((g) => round < g.length); round++) {
      for (const g of groups) if (round < g.length && picked.length < room) picked.push(g[round]);
    }
    sources.splice(0, sources.length, ...picked);
  }
  const [S, C] = [opts.size, opts.mode === 'rgb' ? 3 : 1];
  const per = S * S * C;
  const total = sources.length + stacks.reduce((a, s) => a + s.count, 0);
  const out = new Uint8Array(total * per);
  const labels: string[] = [];
  let n = 0;
  let done = 0;
  const started = Date.now();
  const progress = () => {
    const rate = done / Math.max(1e-3, (Date.now() - started) / 1000);
    opts.onProgress?.({ done, total, skipped: skipped.length, etaSec: rate > 0 ? (total - done) / rate : 0 });
  };

  for (const s of stacks) {
    const converted = await convertStack(s.images, s.count, s.shape, opts);
    out.set(converted, n * per);
    for (let i = 0; i < s.count; i++) labels.push(s.label);
    n += s.count;
    done += s.count;
  }

  // Decode with a few in flight: sharp works on libuv's thread pool. Plain PNGs are decoded
  // synchronously (TensorFlow's decoder, decode.ts), so every BREATHE files all workers wait for
  // one turn of the event loop: a cancel request and the progress messages get through mid-import.
  const results: Array<{ px?: Uint8Array; label: string } | undefined> = new Array(sources.length);
  let next = 0;
  let lastProgress = 0;
  let breather: Promise<void> | undefined;
  let lastBreath = done;
  const worker = async () => {
    while (next < sources.length) {
      if (breather) await breather;
      if (opts.signal?.aborted) throw new ImportCancelled();
      if (next >= sources.length) break;
      const i = next++;
      const src = sources[i];
      try {
        const bytes = await src.read();
        results[i] = { px: await decodeImage(bytes, src.file, opts), label: src.label };
      } catch (err) {
        skipped.push({ file: src.file, reason: (err as Error).message });
      }
      done++;
      if (Date.now() - lastProgress > 200) {
        lastProgress = Date.now();
        progress();
      }
      if (!breather && done - lastBreath >= BREATHE) {
        lastBreath = done;
        breather = new Promise<void>((resolve) =>
          setImmediate(() => {
            breather = undefined;
            resolve();
          }),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  if (opts.signal?.aborted) throw new ImportCancelled();
  for (const r of results) {
    if (!r?.px) continue;
    out.set(r.px, n * per);
    labels.push(r.label);
    n++;
  }
  progress();

  const labelNames = [...new Set(labels)].sort((a, b) => a.localeCompare(b));
  const index = new Map(labelNames.map((l, i) => [l, i]));
  const labelCounts: Record<string, number> = {};
  for (const l of labels) labelCounts[l] = (labelCounts[l] ?? 0) + 1;
  return {
    dataset: {
      images: out.subarray(0, n * per),
      labels: Int32Array.from(labels, (l) => index.get(l) as number),
      labelNames,
      shape: [S, S, C],
      count: n,
    },
    report: { imported: n, skipped, labelCounts },
  };
}
