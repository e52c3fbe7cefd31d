// What each model kind is, in ONE table the compiler checks: `MODEL_KIND_TRAITS` is a
// `Record<ModelKind, …>`, so a kind added to MODEL_KINDS without its traits fails the type check,
// and so does every other per-kind table (DEFAULT_HIDDEN…). Code that differs by kind asks the
// traits (`isConv`, `isVae`, `codeOf`) and switches over them exhaustively (`unreachable`), so a new
// kind of code (a new penalty on it) fails the type check at every place that must handle it.
// Pure: no tfjs, no Node (the renderer uses it for its titles and forms).
import type { ModelKind } from './model-config';

export interface ModelKindTraits {
  /** The kind's name in the UI and the CLI ("Convolutional VAE"). */
  title: string;
  /** The layers on each side: dense layers on the flattened image, or stride-2 convolutions. */
  layers: 'dense' | 'conv';
  /**
   * The code and its term in the objective: `plain` (one dense layer, nothing added), `variational`
   * (a Gaussian's mean and log-variance, sampled with ε; + β·KL) or `sparse` (one dense layer; + l1·mean|z|).
   */
  code: 'plain' | 'variational' | 'sparse';
  /** The fewest hidden layers (dense kinds) the kind takes; conv kinds take 1 to 6 stages. */
  minHidden: number;
}

export const MODEL_KIND_TRAITS: Record<ModelKind, ModelKindTraits> = {
  dense: { title: 'Dense', layers: 'dense', code: 'plain', minHidden: 0 },
  'deep-dense': { title: 'Deep dense', layers: 'dense', code: 'plain', minHidden: 1 },
  conv: { title: 'Convolutional', layers: 'conv', code: 'plain', minHidden: 1 },
  vae: { title: 'Variational (VAE)', layers: 'dense', code: 'variational', minHidden: 0 },
  'conv-vae': { title: 'Convolutional VAE', layers: 'conv', code: 'variational', minHidden: 1 },
  sparse: { title: 'Sparse', layers: 'dense', code: 'sparse', minHidden: 0 },
};

/** The kind's code: switch over it exhaustively (end with `unreachable`). */
export const codeOf = (kind: ModelKind): ModelKindTraits['code'] => MODEL_KIND_TRAITS[kind].code;
/** A variational code (VAE, conv VAE). */
export const isVae = (kind: ModelKind): boolean => MODEL_KIND_TRAITS[kind].code === 'variational';
/** Convolutional layers on each side. */
export const isConv = (kind: ModelKind): boolean => MODEL_KIND_TRAITS[kind].layers === 'conv';
/** The kind's name in the UI and the CLI. */
export const kindTitle = (kind: ModelKind): string => MODEL_KIND_TRAITS[kind].title;

/** The end of an exhaustive switch: a value the types say cannot occur (a case the compiler would have named). */
export function unreachable(value: never, what: string): never {
  throw new Error(`unknown ${what} '${String(value)}'`);
}
