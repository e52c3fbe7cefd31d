// The training engine: plain TypeScript on @tensorflow/tfjs-node, no Electron.
export { ModelConfig, NoiseConfig, MODEL_KINDS, DEFAULT_HIDDEN, validateConfig, isVae, isConv } from './config';
export type { ModelConfigInput, ModelKind, DatasetInfo, FieldError, ValidationResult } from './config';
export { buildAutoencoder, parameterCount, type Autoencoder } from './models';
export { applyNoise, previewNoise } from './noise';
export { readTidy } from './tf';
export {
  loadMnist,
  toTensor,
  BatchSource,
  splitIndices,
  withoutLabels,
  labelCounts,
  balancedOrder,
  type Dataset,
  type RowReader,
  type StreamedDataset,
  type TrainingData,
} from './data';
export {
  trainRun,
  objective,
  klBetaAt,
  reconstructionLoss,
  makeOptimizer,
  measureSplit,
  type RunEvent,
  type RunResult,
  type RunHistory,
  type TrainOptions,
  type EndMetrics,
  type SplitMetrics,
  type StepInfo,
  type TrainingStep,
} from './train';
export { TrainedModel, loadTrained, pca2, type Images, type Projection } from './trained-model';
export { imageMetrics, msePerImage, ssimPerImage, psnrFromMse, type ImageMetrics } from './metrics';
export { fitLatentStats, cholesky, sampleCodes, FULL_COVARIANCE_MAX, type LatentStats } from './latent-stats';
export {
  evaluateModel,
  scoresCsv,
  rocCurve,
  histogram,
  fitPca,
  projectPca,
  linearProbe,
  knnProbe,
  symEig,
  type ModelEvaluation,
  type EvaluateOptions,
  type ProbeScore,
  type Roc,
  type RocPoint,
} from './evaluate';
