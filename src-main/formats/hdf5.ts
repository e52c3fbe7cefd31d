// h5wasm (the HDF5 C library compiled to WebAssembly) for writing Keras's model.weights.h5. Its
// Node build is ESM only and reads the host file system directly (NODERAWFS); it is loaded with a
// dynamic import(), which also works from the CommonJS bundles. Under Electron (and Node ≥ 21) a
// global `navigator` makes Emscripten think it runs in a browser: it is hidden while loading.
type H5 = typeof import('h5wasm/node');

let loading: Promise<H5> | undefined;

export function loadH5wasm(): Promise<H5> {
  loading ??= (async () => {
    const nav = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    if (nav?.configurable) Object.defineProperty(globalThis, 'navigator', { value: undefined, configurable: true });
    try {
      const h5 = await import('h5wasm/node');
      await h5.ready;
      return h5;
    } finally {
      if (nav?.configurable) Object.defineProperty(globalThis, 'navigator', nav);
    }
  })();
  loading.catch(() => (loading = undefined));
  return loading;
}
