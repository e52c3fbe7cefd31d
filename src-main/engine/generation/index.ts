// Generation you can measure: feature spaces, Fréchet distance, precision/recall, the samplers, and
// measuring a run's samples against real images (see docs/generation.md).
export { featureGaussian, frechetDistance, sqrtSym, traceSqrtProduct, type FeatureGaussian } from './frechet';
export { precisionRecall, knnRadii } from './precision-recall';
export {
  SAMPLER_NAMES,
  SAMPLER_TITLES,
  GMM_KS,
  isSamplerName,
  fitSampler,
  drawCodes,
  describeSampler,
  normals,
  type Sampler,
  type SamplerName,
  type FitOptions,
} from './samplers';
export {
  FEATURE_DIM,
  FeatureNet,
  featureNetFor,
  trainFeatureNet,
  datasetClasses,
  featureNetFingerprint,
  type FeatureNetInfo,
  type FeatureNetOptions,
} from './feature-net';
export {
  measureGeneration,
  runSplit,
  codesOfRows,
  decodeCodes,
  type FeatureSpace,
  type GenerationReport,
  type GenerationScores,
  type MeasureOptions,
} from './measure';
export { featureSpaceFor, type ChosenFeatureSpace } from './feature-space';
export {
  MAX_FIT_CODES,
  fitRunSampler,
  readRememberedSampler,
  saveRememberedSampler,
  samplerFile,
  samplerRefusal,
  cropRunRefusal,
  type RememberedSampler,
} from './remember';
export {
  classScores,
  classIndices,
  classifierScores,
  codesOf,
  concatDatasets,
  probeScores,
  type Arm,
  type ClassScores,
} from './rare';
