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
  const entries = items.map((i) => (i.kind === 'file' ? ((i as unknown as { webkitGetAsEntry?: () => EntryLike | null }).webkitGetAsEntry?.() ?? null) : null));
  if (entries.some((e) => e)) {
    for (const e of entries) if (e) await walkEntry(e, out);
    return out;
  }
  return filesFromList(Array.from(dt.files ?? []));
}

/** Files from an <input type="file"> (with webkitdirectory, their relative paths are kept). */
export function filesFromList(files: File[]): DroppedFile[] {
  return files.map((file) => ({ file, relPath: (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name }));
}

/** base64 of a chunk of bytes (for the serve-mode upload). */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
