// Model builders: pure functions of the config returning an encoder and a decoder.
// Follows the Keras autoencoder tutorials (blog.keras.io "Building autoencoders in Keras",
// keras.io/examples/generative/vae) and the reference models of test/bench/train.ts:
//  - dense / sparse: [flatten] → Dense(hidden…, act) → Dense(latent, act) | Dense(hidden reversed) → Dense(H·W·C, out) → reshape
//  - deep-dense: the same with more hidden layers
//  - conv: one Conv(fi,k,s2) per stage (1–6 stages, k = 3 or 5) → flatten → Dense(latent) |
//    Dense(H/2ⁿ·W/2ⁿ·fn) → reshape → ConvT(fn−1,k,s2) … ConvT(f1,k,s2) → ConvT(C,k,s2,out);
//    e.g. stages [32, 64, 128] on 64×64×3 is the reference conv model on 64×64 RGB pictures
//  - vae / conv-vae: the encoder has two outputs [μ, log σ²]; z = μ + σ·ε is drawn in the training step
// No custom layers, so every model saves and loads in the TensorFlow.js layers format.
import { tf } from './tf';
import { isConv, isVae, type ModelConfig } from './config';

export interface Autoencoder {
  /** Image → code (VAE: → [μ, log σ²]). */
  encoder: tf.LayersModel;
  /** Code → image. */
  decoder: tf.LayersModel;
}

type Act = 'relu' | 'elu' | 'tanh' | 'sigmoid' | 'linear';

function activationLayer(
  x: tf.SymbolicTensor,
  act: ModelConfig['activation'] | 'linear',
  name: string,
): tf.SymbolicTensor {
  if (act === 'leaky-relu') return tf.layers.leakyReLU({ alpha: 0.2, name }).apply(x) as tf.SymbolicTensor;
  if (act === 'linear') return x;
  return tf.layers.activation({ activation: act as Act, name }).apply(x) as tf.SymbolicTensor;
}

export function buildAutoencoder(config: ModelConfig): Autoencoder {
  const [h, w, c] = config.inputShape;
  let seed = config.seed;
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  // Activations go into the layer itself where tfjs supports them, so the native backend runs one
  // fused kernel (_FusedMatMul / FusedConv2D) instead of matmul + bias + activation.
  const fusable = (act: ModelConfig['activation'] | 'linear'): Act | undefined =>
    act === 'leaky-relu' ? undefined : (act as Act);
  const dense = (x: tf.SymbolicTensor, units: number, act: ModelConfig['activation'] | 'linear', name: string) => {
    const y = tf.layers
      .dense({ units, activation: fusable(act) ?? 'linear', kernelInitializer: init(), name: `${name}_dense` })
      .apply(x) as tf.SymbolicTensor;
    return fusable(act) ? y : activationLayer(y, act, `${name}_act`);
  };
  const conv = (
    x: tf.SymbolicTensor,
    filters: number,
    act: ModelConfig['activation'] | 'linear',
    name: string,
    transpose = false,
  ) => {
    const opts = {
      filters,
      kernelSize: config.kernelSize,
      strides: 2,
      padding: 'same' as const,
      activation: fusable(act) ?? 'linear',
      kernelInitializer: init(),
      name,
    };
    const y = (transpose ? tf.layers.conv2dTranspose(opts) : tf.layers.conv2d(opts)).apply(x) as tf.SymbolicTensor;
    return fusable(act) ? y : activationLayer(y, act, `${name}_act`);
  };
  const hidden = config.hidden;
  const vae = isVae(config.kind);

  // Encoder
  const input = tf.input({ shape: [h, w, c], name: 'image' });
  let x: tf.SymbolicTensor = input;
  if (isConv(config.kind)) {
    hidden.forEach((filters, i) => (x = conv(x, filters, config.activation, `enc_conv${i + 1}`)));
    x = tf.layers.flatten({ name: 'enc_flatten' }).apply(x) as tf.SymbolicTensor;
  } else {
    x = tf.layers.flatten({ name: 'enc_flatten' }).apply(x) as tf.SymbolicTensor;
    hidden.forEach((units, i) => (x = dense(x, units, config.activation, `enc_h${i + 1}`)));
  }
  let encoderOutputs: tf.SymbolicTensor[];
  if (vae) {
    const mu = tf.layers
      .dense({ units: config.latentDim, kernelInitializer: init(), name: 'z_mean' })
      .apply(x) as tf.SymbolicTensor;
    const logVar = tf.layers
      .dense({ units: config.latentDim, kernelInitializer: tf.initializers.zeros(), name: 'z_log_var' })
      .apply(x) as tf.SymbolicTensor;
    encoderOutputs = [mu, logVar];
  } else {
    // The classic dense AE's code layer carries the activation (784 → 128 relu → 784); the conv
    // model's code is linear as in reference model B (test/bench/train.ts).
    encoderOutputs = [dense(x, config.latentDim, isConv(config.kind) ? 'linear' : config.activation, 'code')];
  }
  const encoder = tf.model({
    inputs: input,
    outputs: encoderOutputs.length === 1 ? encoderOutputs[0] : encoderOutputs,
    name: 'encoder',
  });

  // Decoder
  const codeIn = tf.input({ shape: [config.latentDim], name: 'code' });
  let y: tf.SymbolicTensor = codeIn;
  const out = config.outputActivation;
  if (isConv(config.kind)) {
    // Mirror of the encoder: the last stage's map, then one transposed conv per stage back to the
    // image (names dec_convt1…n, so two-stage models keep the names they always had).
    const f = 2 ** hidden.length;
    const last = hidden[hidden.length - 1];
    y = dense(y, (h / f) * (w / f) * last, config.activation, 'dec_in');
    y = tf.layers.reshape({ targetShape: [h / f, w / f, last], name: 'dec_reshape' }).apply(y) as tf.SymbolicTensor;
    const back = [...hidden].reverse().slice(1);
    back.forEach((filters, i) => (y = conv(y, filters, config.activation, `dec_convt${i + 1}`, true)));
    y = conv(y, c, out, `dec_convt${hidden.length}`, true);
  } else {
    [...hidden].reverse().forEach((units, i) => (y = dense(y, units, config.activation, `dec_h${i + 1}`)));
    y = dense(y, h * w * c, out, 'dec_out');
    y = tf.layers.reshape({ targetShape: [h, w, c], name: 'dec_reshape' }).apply(y) as tf.SymbolicTensor;
  }
  const decoder = tf.model({ inputs: codeIn, outputs: y, name: 'decoder' });
  return { encoder, decoder };
}

/**
 * The whole autoencoder as one layers model: image → encoder (a VAE's mean) → decoder. It shares the
 * encoder's and decoder's weights (nothing is copied) and saves as one model.json + weights.
 * Disposing it disposes the halves too (tfjs counts nested models as owned), so build it from
 * halves that exist only for it (persist.ts loads fresh copies).
 */
export function fullModel(ae: Autoencoder): tf.LayersModel {
  const shape = ae.encoder.inputs[0].shape.slice(1) as number[];
  const input = tf.input({ shape, name: 'image' });
  const enc = ae.encoder.apply(input) as tf.SymbolicTensor | tf.SymbolicTensor[];
  const output = ae.decoder.apply(Array.isArray(enc) ? enc[0] : enc) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: 'autoencoder' });
}

/** The code for `x`: the plain AE's code, or the VAE's mean. Caller disposes. */
export function encodeMean(ae: Autoencoder, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const out = ae.encoder.predict(x) as tf.Tensor | tf.Tensor[];
    return Array.isArray(out) ? out[0] : out;
  });
}

/** Trainable variables of both halves, in a fixed order (the optimizer state follows it). */
export function trainableVariables(ae: Autoencoder): tf.Variable[] {
  return [...ae.encoder.trainableWeights, ...ae.decoder.trainableWeights].map((w) => w.read() as tf.Variable);
}

export function parameterCount(ae: Autoencoder): number {
  return ae.encoder.countParams() + ae.decoder.countParams();
}
