// One validated object describes a run: architecture, hyperparameters and noise.
// `validateConfig` also checks the config against the dataset and names the offending field. The
// checks are pure and live in the contract (src-main/contract/model-validate.ts) so the renderer's
// Model view shows exactly the messages the engine would give.
export { MODEL_KINDS, NoiseConfig, ModelConfig, type ModelKind, type ModelConfigInput } from '../contract/model-config';
export { DEFAULT_HIDDEN, isVae, isConv, validateConfig, type DatasetInfo, type FieldError, type ValidationResult } from '../contract/model-validate';
import type { ResolvedModelConfig } from '../contract/model-validate';

export type ModelConfig = ResolvedModelConfig;
