// Visual inspection: anomaly maps and image scores (maps.ts), inspecting pictures with a trained
// model in batches (inspect.ts), the metrics (metrics.ts) and the calibration saved with a run
// (calibration.ts). See docs/inspection.md.
export * from './maps';
export * from './inspect';
export * from './metrics';
export * from './calibration';
export * from './tiles';
