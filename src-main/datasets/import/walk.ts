// Walking what was dropped: folders (sub-folder names become labels; symlinks that loop or leave
// the dropped folder, devices and FIFOs are skipped) and single files, each routed by its type to
// an image source, an archive (zip.ts) or an image stack (idx.ts, npy.ts).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  ARCHIVE_EXT,
  IMAGE_EXT,
  describeFsError,
  type ImportOptions,
  type Limits,
  type SkippedFile,
  type Source,
} from './options';
import { addZip } from './zip';
import { findIdxLabels, parseIdx, parseIdxLabels } from './idx';
import { parseNpy, readNpz } from './npy';

/** An image stack read from an IDX or NumPy file, with its label. */
export type Stack = { file: string; label: string; images: Uint8Array; count: number; shape: [number, number, number] };

export async function walkDir(
  root: string,
  dir: string,
  sources: Source[],
  stacks: Stack[],
  skipped: SkippedFile[],
  opts: Limits & ImportOptions,
): Promise<void> {
  const realRoot = fs.realpathSync(root);
  const seen = new Set<string>();
  const walk = async (d: string) => {
    let real: string;
    try {
      real = fs.realpathSync(d);
    } catch (err) {
      skipped.push({ file: path.relative(root, d) || d, reason: describeFsError(err) });
      return;
    }
    if (seen.has(real)) {
      skipped.push({ file: path.relative(root, d), reason: 'symbolic link loop (folder already visited)' });
      return;
    }
    seen.add(real);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch (err) {
      skipped.push({ file: path.relative(root, d) || d, reason: describeFsError(err) });
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(d, e.name);
      const rel = path.relative(root, full);
      if (e.isSymbolicLink()) {
        let target: string;
        try {
          target = fs.realpathSync(full);
        } catch (err) {
          skipped.push({ file: rel, reason: describeFsError(err) });
          continue;
        }
        if (target !== realRoot && !target.startsWith(realRoot + path.sep)) {
          skipped.push({ file: rel, reason: 'symbolic link pointing outside the imported folder' });
          continue;
        }
        const targetStat = fs.statSync(target);
        if (targetStat.isDirectory()) {
          await walk(full);
          continue;
        }
        if (!targetStat.isFile()) {
          // a link to a FIFO or device: reading it would block forever or never end
          skipped.push({ file: rel, reason: 'not a regular file (a device, FIFO or socket is never read)' });
          continue;
        }
      } else if (e.isDirectory()) {
        await walk(full);
        continue;
      } else if (!e.isFile()) {
        skipped.push({ file: rel, reason: 'not a regular file' });
        continue;
      }
      const parts = rel.split(path.sep);
      await addFile(full, rel, parts.length > 1 ? parts[0] : '', sources, stacks, skipped, opts);
    }
  };
  await walk(root);
}

export async function addFile(
  full: string,
  rel: string,
  label: string,
  sources: Source[],
  stacks: Stack[],
  skipped: SkippedFile[],
  opts: Limits & ImportOptions,
): Promise<void> {
  const lower = rel.toLowerCase();
  const ext = path.extname(lower);
  if (lower.endsWith('.zip')) return addZip(full, rel, sources, skipped, opts);
  if (/-idx3-ubyte(\.gz)?$/.test(lower) || ext === '.npy') {
    try {
      const buf = fs.readFileSync(full);
      const stack = ext === '.npy' ? parseNpy(buf) : parseIdx(lower.endsWith('.gz') ? zlib.gunzipSync(buf) : buf);
      const labelFile = ext === '.npy' ? undefined : findIdxLabels(full);
      if (labelFile) {
        const lab = parseIdxLabels(fs.readFileSync(labelFile).subarray(0), labelFile.endsWith('.gz'));
        if (lab.length !== stack.count)
          throw new Error(`its label file has ${lab.length} labels for ${stack.count} images`);
        // one stack per label keeps labels per image
        const per = stack.shape[0] * stack.shape[1] * stack.shape[2];
        for (let i = 0; i < stack.count; i++)
          stacks.push({
            file: rel,
            label: String(lab[i]),
            images: stack.images.subarray(i * per, (i + 1) * per),
            count: 1,
            shape: stack.shape,
          });
      } else stacks.push({ file: rel, label, ...stack });
    } catch (err) {
      skipped.push({ file: rel, reason: `unreadable array file: ${(err as Error).message}` });
    }
    return;
  }
  if (ext === '.npz') {
    try {
      for (const st of await readNpz(full, rel, skipped, opts))
        stacks.push({ file: rel, label: st.label ?? label, images: st.images, count: st.count, shape: st.shape });
    } catch (err) {
      skipped.push({ file: rel, reason: `unreadable .npz file: ${(err as Error).message}` });
    }
    return;
  }
  if (/-idx1-ubyte(\.gz)?$/.test(lower)) return; // label files are read with their images
  if (ARCHIVE_EXT.has(ext))
    return void skipped.push({ file: rel, reason: `unsupported archive type '${ext}' (only .zip)` });
  if (!IMAGE_EXT.has(ext))
    return void skipped.push({ file: rel, reason: `unsupported file type '${ext || '(none)'}'` });
  sources.push({
    file: rel,
    label,
    // A synchronous read: imports run in the trainer process or the CLI, never in the host, and
    // a small file's thread-pool round trip costs more than the read itself.
    read: async () => {
      try {
        return fs.readFileSync(full);
      } catch (err) {
        throw new Error(describeFsError(err));
      }
    },
  });
}
