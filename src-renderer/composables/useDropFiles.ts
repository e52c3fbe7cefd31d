// Turns a drop (or a file picker) into files with their relative paths, walking dropped folders
// through the directory-entry API, so sub-folder names can become labels.

export interface DroppedFile {
  file: File;
  /** Path inside what was dropped, with '/' separators, e.g. "cats/1.png". */
  relPath: string;
}

interface EntryLike {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  fullPath: string;
  file?: (ok: (f: File) => void, err: (e: unknown) => void) => void;
  createReader?: () => { readEntries: (ok: (entries: EntryLike[]) => void, err: (e: unknown) => void) => void };
}

async function walkEntry(entry: EntryLike, out: DroppedFile[]): Promise<void> {
  if (entry.isFile && entry.file) {
    const file = await new Promise<File>((ok, err) => entry.file!(ok, err));
    out.push({ file, relPath: entry.fullPath.replace(/^\//, '') });
  } else if (entry.isDirectory && entry.createReader) {
    const reader = entry.createReader();
    // readEntries returns at most 100 entries per call: read until empty
    for (;;) {
      const batch = await new Promise<EntryLike[]>((ok, err) => reader.readEntries(ok, err));
      if (!batch.length) break;
      for (const e of batch) await walkEntry(e, out);
    }
  }
}

/** Every file in a DataTransfer, folders included. */
export async function filesFromDataTransfer(dt: DataTransfer): Promise<DroppedFile[]> {
  const out: DroppedFile[] = [];
  const items = Array.from(dt.items ?? []);
  const entries = items.map((i) =>
    i.kind === 'file'
      ? ((i as unknown as { webkitGetAsEntry?: () => EntryLike | null }).webkitGetAsEntry?.() ?? null)
      : null,
  );
  if (entries.some((e) => e)) {
    for (const e of entries) if (e) await walkEntry(e, out);
    return out;
  }
  return filesFromList(Array.from(dt.files ?? []));
}

/** Files from an <input type="file"> (with webkitdirectory, their relative paths are kept). */
export function filesFromList(files: File[]): DroppedFile[] {
  return files.map((file) => ({
    file,
    relPath: (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name,
  }));
}

/**
 * The desktop app imports from paths: the dropped or picked items themselves (a folder, not each
 * file in it), so the host labels images by their sub-folders exactly as it does for an upload or
 * `ae-studio import FOLDER`. `pathOf` gives a file's absolute path; undefined when one has none,
 * or when several folders were dropped (see below).
 */
export function importRoots(files: DroppedFile[], pathOf: (f: File) => string): string[] | undefined {
  const roots = new Set<string>();
  for (const f of files) {
    const abs = pathOf(f.file);
    if (!abs) return undefined;
    const sep = abs.includes('\\') && !abs.includes('/') ? '\\' : '/';
    const parts = abs.split(sep);
    const depth = f.relPath.split('/').length; // "pics/cat/1.png" → the root is 2 levels above the file
    if (parts.length <= depth) return undefined;
    roots.add(parts.slice(0, parts.length - depth + 1).join(sep));
  }
  // Several folders dropped together are labelled by their own names, which only an upload keeps
  // (the host labels an upload by its top-level entries): then the files are uploaded instead.
  const folders = new Set(files.filter((f) => f.relPath.includes('/')).map((f) => f.relPath.split('/')[0]));
  if (folders.size > 1) return undefined;
  return [...roots].sort();
}

/** base64 of a chunk of bytes (for the serve-mode upload). */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
