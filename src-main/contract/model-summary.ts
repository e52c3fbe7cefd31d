// The network a config builds, without building it: every layer of the encoder and the decoder
// with its output shape and parameter count. Pure (no tfjs), so the Model view shows it as you
// type. It mirrors src-main/engine/models.ts layer by layer (same names); the unit test
// test/unit/main/contract/model-summary.test.ts checks it against tfjs's real model.
import { isConv, isVae, type ResolvedModelConfig } from './model-validate';

export interface LayerSummary {
  /** The tfjs layer name (`enc_conv1`, `code_dense`, `z_mean`, …). */
  name: string;
  /** Input, Dense, Conv2D, Conv2DTranspose, Flatten, Reshape, LeakyReLU. */
  type: string;
  /** Output shape without the batch dimension. */
  outputShape: number[];
  params: number;
  /** The activation inside the layer, if any. */
  activation?: string;
}

export interface ModelSummary {
  encoder: LayerSummary[];
  decoder: LayerSummary[];
  encoderParams: number;
  decoderParams: number;
  totalParams: number;
  /** Values per image going in, and the size of the code. */
  inputSize: number;
  latentDim: number;
}

/** Layers, output shapes and parameter counts of the autoencoder a (valid, resolved) config builds. */
export function summarizeModel(config: ResolvedModelConfig): ModelSummary {
  const [h, w, c] = config.inputShape;
  const act = config.activation;
  const encoder: LayerSummary[] = [];
  const decoder: LayerSummary[] = [];
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

  // mirrors models.ts: a leaky ReLU cannot be fused into the layer and follows as its own layer
  const push = (to: LayerSummary[], layer: LayerSummary, a: string) => {
    if (a === 'leaky-relu') {
      to.push({ ...layer, activation: undefined });
      to.push({
        name: layer.name.replace(/_dense$/, '') + '_act',
        type: 'LeakyReLU',
        outputShape: layer.outputShape,
        params: 0,
      });
    } else to.push({ ...layer, activation: a });
  };
  const dense = (to: LayerSummary[], inSize: number, units: number, a: string, name: string) =>
    push(to, { name: `${name}_dense`, type: 'Dense', outputShape: [units], params: inSize * units + units }, a);

  // Encoder
  encoder.push({ name: 'image', type: 'Input', outputShape: [h, w, c], params: 0 });
  let shape = [h, w, c];
  const k2 = config.kernelSize * config.kernelSize;
  if (isConv(config.kind)) {
    config.hidden.forEach((filters, i) => {
      const out = [Math.ceil(shape[0] / 2), Math.ceil(shape[1] / 2), filters];
      push(
        encoder,
        { name: `enc_conv${i + 1}`, type: 'Conv2D', outputShape: out, params: k2 * shape[2] * filters + filters },
        act,
      );
      shape = out;
    });
    encoder.push({ name: 'enc_flatten', type: 'Flatten', outputShape: [size(shape)], params: 0 });
  } else {
    encoder.push({ name: 'enc_flatten', type: 'Flatten', outputShape: [h * w * c], params: 0 });
    config.hidden.forEach((units, i) => {
      dense(encoder, size(shape), units, act, `enc_h${i + 1}`);
      shape = [units];
    });
  }
  const flat = size(shape);
  if (isVae(config.kind)) {
    encoder.push({
      name: 'z_mean',
      type: 'Dense',
      outputShape: [config.latentDim],
      params: flat * config.latentDim + config.latentDim,
      activation: 'linear',
    });
    encoder.push({
      name: 'z_log_var',
      type: 'Dense',
      outputShape: [config.latentDim],
      params: flat * config.latentDim + config.latentDim,
      activation: 'linear',
    });
  } else {
    dense(encoder, flat, config.latentDim, isConv(config.kind) ? 'linear' : act, 'code');
  }

  // Decoder
  decoder.push({ name: 'code', type: 'Input', outputShape: [config.latentDim], params: 0 });
  const out = config.outputActivation;
  if (isConv(config.kind)) {
    const stages = config.hidden.length;
    const f = 2 ** stages;
    let prev = config.hidden[stages - 1];
    let [qh, qw] = [h / f, w / f];
    dense(decoder, config.latentDim, qh * qw * prev, act, 'dec_in');
    decoder.push({ name: 'dec_reshape', type: 'Reshape', outputShape: [qh, qw, prev], params: 0 });
    const back = [...config.hidden].reverse().slice(1);
    back.forEach((filters, i) => {
      [qh, qw] = [qh * 2, qw * 2];
      push(
        decoder,
        {
          name: `dec_convt${i + 1}`,
          type: 'Conv2DTranspose',
          outputShape: [qh, qw, filters],
          params: k2 * prev * filters + filters,
        },
        act,
      );
      prev = filters;
    });
    push(
      decoder,
      { name: `dec_convt${stages}`, type: 'Conv2DTranspose', outputShape: [h, w, c], params: k2 * prev * c + c },
      out,
    );
  } else {
    let prev = config.latentDim;
    [...config.hidden].reverse().forEach((units, i) => {
      dense(decoder, prev, units, act, `dec_h${i + 1}`);
      prev = units;
    });
    dense(decoder, prev, h * w * c, out, 'dec_out');
    decoder.push({ name: 'dec_reshape', type: 'Reshape', outputShape: [h, w, c], params: 0 });
  }

  const sum = (ls: LayerSummary[]) => ls.reduce((a, l) => a + l.params, 0);
  const encoderParams = sum(encoder);
  const decoderParams = sum(decoder);
  return {
    encoder,
    decoder,
    encoderParams,
    decoderParams,
    totalParams: encoderParams + decoderParams,
    inputSize: h * w * c,
    latentDim: config.latentDim,
  };
}
