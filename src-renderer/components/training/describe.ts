// Runs in plain words for lists and pickers: what model ("Convolutional VAE, 16-d code"), on what
// ("Desktop icons, 404 images", not a dataset id), and the run's own name when the user gave one.
import { kindTitle, type DatasetManifest, type ModelConfigInput, type RunSummary } from '@contract';

/**
 * "Convolutional VAE, 16-d code" (+ ", denoising" when trained on noisy inputs, + ", 64-px crops" when
 * trained on random crops); "Model" without one (a damaged run).
 */
export function modelTitle(config: Pick<ModelConfigInput, 'kind' | 'latentDim' | 'noise' | 'cropSize'> | null): string {
  if (!config) return 'Model';
  const latent = config.latentDim ?? 0;
  const noise = config.noise;
  const denoising = noise?.type && noise.type !== 'none' && noise.level ? ', denoising' : '';
  const crops = config.cropSize ? `, ${config.cropSize}-px crops` : '';
  return `${kindTitle(config.kind ?? 'dense')}${latent > 0 ? `, ${latent}-d code` : ''}${denoising}${crops}`;
}

/** The run trained on noisy inputs (a denoising autoencoder): its previews and Gallery show a noisy row. */
export const trainsOnNoise = (config: RunSummary['config']): boolean =>
  !!config && config.noise.type !== 'none' && config.noise.level > 0;

/** The dataset's name (from the store when it is still there), and how many images the run used. */
export function datasetTitle(dataset: RunSummary['dataset'], datasets: DatasetManifest[]): string {
  const name = 'builtin' in dataset ? 'MNIST digits' : (datasets.find((m) => m.id === dataset.id)?.name ?? dataset.id);
  return dataset.count ? `${name} (${dataset.count.toLocaleString('en-US')})` : name;
}

/** A short time: "14:02" today, "2 Dec 14:02" before. */
export function shortTime(ms: number, now = Date.now()): string {
  const t = new Date(ms);
  const hm = t.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  return new Date(now).toDateString() === t.toDateString()
    ? hm
    : `${t.toLocaleDateString('en-GB', { day: 'numeric', month: 'short' })} ${hm}`;
}

/** The run's name, or its model and start time. */
export function runTitle(s: RunSummary): string {
  if (s.name) return s.name;
  const imported = s.runId.startsWith('imported-') ? 'Imported ' : '';
  return `${imported}${imported ? modelTitle(s.config).replace(/^./, (c) => c.toLowerCase()) : modelTitle(s.config)} · ${shortTime(s.startedAt)}`;
}
