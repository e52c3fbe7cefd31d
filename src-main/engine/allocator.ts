// The C allocator's settings for processes that run TensorFlow (the trainer, the CLI's TensorFlow
// child, the inference benchmark): given to a process in its environment when it is started, since
// glibc reads GLIBC_TUNABLES once, before any JavaScript runs. Elsewhere (macOS, Windows, musl) the
// variable is ignored.
//
// Why: every inference call hands its outputs to JavaScript in a new buffer (tfjs-node copies a
// TensorFlow tensor into a fresh, zero-filled ArrayBuffer; 800 KB for 256 reconstructed 28×28
// pictures), and V8 frees those buffers in bunches when it collects garbage. With glibc's defaults
// the freed memory goes back to the system (heap trimming above 2× the adaptive mmap threshold, or
// mmap/munmap for big blocks), and the next buffers fault it back in page by page: a process lands,
// by the luck of its first allocations, in a slow state where the dense model reconstructs about a
// third fewer images a second, the kernel zeroing pages. Serving blocks below 32 MiB from the heap and
// keeping up to 64 MiB of freed memory per arena makes every run the fast case (measurements:
// docs/inference.md, "Evening sitting").

/** glibc tunables the TensorFlow processes start with. */
export const MALLOC_TUNABLES: Record<string, string> = {
  'glibc.malloc.mmap_threshold': String(32 << 20),
  'glibc.malloc.trim_threshold': String(64 << 20),
};

/**
 * GLIBC_TUNABLES for a child process: the user's own tunables (from `current`, the parent's value)
 * kept as they are, ours added for the keys they do not set.
 */
export function glibcTunables(current: string | undefined = process.env.GLIBC_TUNABLES): string {
  const own = (current ?? '').split(':').filter(Boolean);
  const set = new Set(own.map((kv) => kv.split('=')[0]));
  const ours = Object.entries(MALLOC_TUNABLES)
    .filter(([k]) => !set.has(k))
    .map(([k, v]) => `${k}=${v}`);
  return [...own, ...ours].join(':');
}
