// The Gallery of one finished run: reconstructions with metrics, samples, worst cases, the
// latent map, the manifold grid and interpolations, each loaded from the host on demand.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { CallReq, CallRes } from '@contract';
import { useApi } from '../api/instance';
import { describeError } from '../api/client';
import { toBase64 } from '../composables/useDropFiles';

export const useGalleryStore = defineStore('gallery', () => {
  /** The run being looked at. */
  const runId = ref<string>();
  const triplets = ref<CallRes<'gallery:triplets'>>();
  const samples = ref<CallRes<'gallery:samples'>>();
  /** Samplers side by side (on demand: fitting them takes seconds, measuring longer). */
  const samplers = ref<CallRes<'gallery:samplers'>>();
  const samplersBusy = ref(false);
  let samplersSeed = 1;
  const worst = ref<CallRes<'gallery:worst'>>();
  const latent = ref<CallRes<'gallery:latent'>>();
  const manifold = ref<CallRes<'gallery:manifold'>>();
  const interpolation = ref<CallRes<'gallery:interpolate'>>();
  /** Why a section could not load (e.g. no manifold for codes that are not 2-D), by section. */
  const errors = ref<Record<string, string>>({});
  const loading = ref(false);
  let seed = 1;

  async function section<T>(name: string, f: () => Promise<T>): Promise<T | undefined> {
    try {
      const r = await f();
      delete errors.value[name];
      return r;
    } catch (err) {
      errors.value[name] = describeError(err);
      return undefined;
    }
  }

  /** Loads every section for a run. */
  async function open(id: string, latentDim: number) {
    const api = useApi();
    if (runId.value !== id) [tried.value, samplers.value] = [undefined, undefined];
    runId.value = id;
    errors.value = {};
    loading.value = true;
    [triplets.value, samples.value, worst.value, latent.value, manifold.value, interpolation.value] = [
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ];
    triplets.value = await section('triplets', () => api.invoke('gallery:triplets', { runId: id, count: 10 }));
    samples.value = await section('samples', () => api.invoke('gallery:samples', { runId: id, count: 16, seed }));
    worst.value = await section('worst', () => api.invoke('gallery:worst', { runId: id, count: 8 }));
    latent.value = await section('latent', () => api.invoke('gallery:latent', { runId: id, max: 1500 }));
    if (latentDim === 2)
      manifold.value = await section('manifold', () => api.invoke('gallery:manifold', { runId: id, grid: 12 }));
    interpolation.value = await section('interpolation', () =>
      api.invoke('gallery:interpolate', { runId: id, a: 0, b: 1, steps: 8 }),
    );
    loading.value = false;
  }

  /** New generated samples. */
  async function reroll() {
    if (!runId.value) return;
    seed += 1;
    const id = runId.value;
    samples.value = await section('samples', () => useApi().invoke('gallery:samples', { runId: id, count: 16, seed }));
  }

  /** Each sampler's images (a new draw each time) and, with `measure`, their quality measured now. */
  async function loadSamplers(measure: boolean) {
    if (!runId.value) return;
    const id = runId.value;
    samplersBusy.value = true;
    if (samplers.value && !measure) samplersSeed += 1;
    try {
      const r = await section('samplers', () =>
        useApi().invoke('gallery:samplers', { runId: id, count: 8, seed: samplersSeed, measure }),
      );
      if (r && runId.value === id) samplers.value = r;
    } finally {
      samplersBusy.value = false;
    }
  }

  /** The sampler being made the run's own (its button waits). */
  const choosing = ref<string>();
  /**
   * Makes a sampler the run's remembered one (as `ae-studio generate --sampler NAME`): the Gallery's
   * generated samples, `generate` without `--sampler` and TF.js decoder exports then draw from it.
   */
  async function chooseSampler(name: CallReq<'gallery:chooseSampler'>['sampler']) {
    if (!runId.value) return;
    const id = runId.value;
    choosing.value = name;
    try {
      const r = await section('samplers', () => useApi().invoke('gallery:chooseSampler', { runId: id, sampler: name }));
      if (!r || runId.value !== id) return;
      if (samplers.value) samplers.value = { ...samplers.value, chosen: r.chosen };
      // the generated samples above now come from it
      samples.value = await section('samples', () =>
        useApi().invoke('gallery:samples', { runId: id, count: 16, seed }),
      );
    } finally {
      choosing.value = undefined;
    }
  }

  /** Interpolates between two of the reconstructions' originals. */
  async function interpolate(a: number, b: number) {
    if (!runId.value) return;
    const id = runId.value;
    interpolation.value = await section('interpolation', () =>
      useApi().invoke('gallery:interpolate', { runId: id, a, b, steps: 8 }),
    );
  }

  /** Try it: the user's own pictures through the model, newest first. */
  const tried = ref<{ shape: [number, number, number]; results: CallRes<'gallery:try'>['results'] }>();
  const trying = ref(false);
  /** Sends the files in requests of at most ~8 MB (a serve-mode message holds 16 MB). */
  async function tryFiles(files: File[]) {
    if (!runId.value || !files.length) return;
    const id = runId.value;
    trying.value = true;
    delete errors.value.try;
    try {
      const groups: File[][] = [[]];
      let bytes = 0;
      for (const f of files.slice(0, 64)) {
        if (f.size > 8 * 2 ** 20) {
          tried.value = {
            shape: tried.value?.shape ?? [0, 0, 0],
            results: [
              { name: f.name, error: 'larger than 8 MB; Try it takes smaller pictures' },
              ...(tried.value?.results ?? []),
            ],
          };
          continue;
        }
        if (bytes + f.size > 6 * 2 ** 20 || groups[groups.length - 1].length >= 32) {
          groups.push([]);
          bytes = 0;
        }
        groups[groups.length - 1].push(f);
        bytes += f.size;
      }
      for (const g of groups.filter((x) => x.length)) {
        const payload = await Promise.all(
          g.map(async (f) => ({
            name: f.name.slice(0, 260) || 'image',
            data: toBase64(new Uint8Array(await f.arrayBuffer())),
          })),
        );
        const r = await useApi().invoke('gallery:try', { runId: id, files: payload });
        if (runId.value !== id) return;
        tried.value = { shape: r.shape, results: [...r.results, ...(tried.value?.results ?? [])].slice(0, 64) };
      }
    } catch (err) {
      errors.value.try = describeError(err);
    } finally {
      trying.value = false;
    }
  }

  return {
    runId,
    triplets,
    samples,
    samplers,
    samplersBusy,
    loadSamplers,
    choosing,
    chooseSampler,
    worst,
    latent,
    manifold,
    interpolation,
    errors,
    loading,
    open,
    reroll,
    interpolate,
    tried,
    trying,
    tryFiles,
  };
});
