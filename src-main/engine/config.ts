// One validated object describes a run: architecture, hyperparameters and noise.
// `validateConfig` also checks the config against the dataset and names the offending field. The
// checks are pure and live in the contract (src-main/contract/model-validate.ts) so the renderer's
// Model view shows exactly the messages the engine would give.
export { MODEL_KINDS, NoiseConfig, type ModelKind, type ModelConfigInput } from '../contract/model-config';
export {
  DEFAULT_HIDDEN,
  validateConfig,
  type DatasetInfo,
  type FieldError,
  type ValidationResult,
} from '../contract/model-validate';
export {
  MODEL_KIND_TRAITS,
  codeOf,
  isConv,
  isVae,
  kindTitle,
  unreachable,
  type ModelKindTraits,
} from '../contract/model-kinds';
import { ModelConfig as ModelConfigSchema } from '../contract/model-config';
import type { ResolvedModelConfig } from '../contract/model-validate';

/** The config's schema (the contract's). */
export const ModelConfig = ModelConfigSchema;
/** In the engine a config is always resolved: defaults filled in and `hidden` set for its kind. */
export type ModelConfig = ResolvedModelConfig;
