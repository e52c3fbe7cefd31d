// Runs in plain words for lists and pickers: what model ("Convolutional VAE, 16-d code"), on what
// ("Desktop icons, 404 images", not a dataset id), and the run's own name when the user gave one.
import type { DatasetManifest, RunSummary } from '@contract';

export const KIND_TITLES: Record<string, string> = {
  dense: 'Dense',
  'deep-dense': 'Deep dense',
  conv: 'Convolutional',
  vae: 'Variational (VAE)',
  'conv-vae': 'Convolutional VAE',
  sparse: 'Sparse',
};

/** "Convolutional VAE, 16-d code" (+ ", denoising" when trained on noisy inputs). */
export function modelTitle(config: Record<string, unknown>): string {
  const kind = String(config.kind ?? '');
  const latent = Number(config.latentDim);
  const noise = config.noise as { type?: string; level?: number } | undefined;
  const denoising = noise && noise.type && noise.type !== 'none' && noise.level ? ', denoising' : '';
  return `${KIND_TITLES[kind] ?? (kind || 'Model')}${Number.isFinite(latent) && latent > 0 ? `, ${latent}-d code` : ''}${denoising}`;
}

/** The dataset's name (from the store when it is still there), and how many images the run used. */
export function datasetTitle(dataset: RunSummary['dataset'], datasets: DatasetManifest[]): string {
  const d = dataset as { builtin?: string; id?: string; count?: number };
  const name = d.builtin ? 'MNIST digits' : (datasets.find((m) => m.id === d.id)?.name ?? d.id ?? '');
  return d.count ? `${name} (${d.count.toLocaleString('en-US')})` : name;
}

/** A short time: "14:02" today, "2 Dec 14:02" before. */
export function shortTime(ms: number, now = Date.now()): string {
  const t = new Date(ms);
  const hm = t.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  return new Date(now).toDateString() === t.toDateString() ? hm : `${t.toLocaleDateString('en-GB', { day: 'numeric', month: 'short' })} ${hm}`;
}

/** The run's name, or its model and start time. */
export function runTitle(s: RunSummary): string {
  if (s.name) return s.name;
  const imported = s.runId.startsWith('imported-') ? 'Imported ' : '';
  return `${imported}${imported ? modelTitle(s.config).replace(/^./, (c) => c.toLowerCase()) : modelTitle(s.config)} · ${shortTime(s.startedAt)}`;
}
