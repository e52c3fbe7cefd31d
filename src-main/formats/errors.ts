// The one error an export raises for something a format cannot hold (as opposed to I/O failures):
// its message names the format, the part and — where one is to blame — the layer and its class.

export type ExportFormat = 'tfjs' | 'keras' | 'onnx';
export type ExportPart = 'encoder' | 'decoder' | 'full';

export const EXPORT_FORMATS: readonly ExportFormat[] = ['tfjs', 'keras', 'onnx'];
export const EXPORT_PARTS: readonly ExportPart[] = ['encoder', 'decoder', 'full'];

export const FORMAT_TITLES: Record<ExportFormat, string> = {
  tfjs: 'TensorFlow.js',
  keras: 'Keras 3 (.keras)',
  onnx: 'ONNX',
};

export class ExportError extends Error {
  override readonly name = 'ExportError';
  constructor(
    message: string,
    readonly details: { format?: ExportFormat; part?: ExportPart; layer?: string; className?: string } = {},
  ) {
    super(message);
  }
}

/** Importing a folder that is not a studio TensorFlow.js export of a whole autoencoder. */
export class ImportError extends Error {
  override readonly name = 'ImportError';
}
