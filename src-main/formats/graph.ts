// A small, format-neutral description of the part being exported, read from the tfjs layers
// models (their config and weights): one node per layer, in topological order, each with its input
// node names, shapes and weight arrays. The Keras and ONNX writers work from it. "full" is the
// encoder followed by the decoder in one flat graph (a VAE's decoder reads the mean, z_log_var is
// dropped), exactly what `fullModel` in models.ts computes.
//
// Only the layers the studio's models are built from are described; anything else (another layer
// class, activation, data format, dilation, a layer called twice, a nested model) is an
// ExportError naming the layer.
import { tf } from '../engine/tf';
import type { Autoencoder } from '../engine/models';
import { ExportError, FORMAT_TITLES, type ExportFormat, type ExportPart } from './errors';

export type NodeOp =
  'InputLayer' | 'Dense' | 'Conv2D' | 'Conv2DTranspose' | 'Flatten' | 'Reshape' | 'Activation' | 'LeakyReLU';
export const SUPPORTED_LAYERS: readonly NodeOp[] = [
  'InputLayer',
  'Dense',
  'Conv2D',
  'Conv2DTranspose',
  'Flatten',
  'Reshape',
  'Activation',
  'LeakyReLU',
];
/** Activations (fused into Dense/Conv layers or in an Activation layer) that every format expresses. */
export const SUPPORTED_ACTIVATIONS = ['linear', 'relu', 'elu', 'tanh', 'sigmoid'] as const;
export type Activation = (typeof SUPPORTED_ACTIVATIONS)[number];

export interface Weight {
  shape: number[];
  data: Float32Array;
}

export interface GraphNode {
  name: string;
  op: NodeOp;
  /** Names of the nodes this one reads (one each; no layer here has several inputs). */
  inputs: string[];
  /** Output shape with the batch dimension (null) first. */
  shape: Array<number | null>;
  /** Input shape (the first input's), batch first; absent for InputLayer. */
  inShape?: Array<number | null>;
  activation: Activation;
  /** Dense units or conv filters. */
  units?: number;
  kernelSize?: [number, number];
  strides?: [number, number];
  padding?: 'same' | 'valid';
  targetShape?: number[];
  /** LeakyReLU slope. */
  alpha?: number;
  /** tfjs order: Dense kernel [in, units]; Conv2D [kh, kw, in, out]; Conv2DTranspose [kh, kw, out, in]. */
  kernel?: Weight;
  bias?: Weight;
}

export interface Graph {
  name: string;
  nodes: GraphNode[];
  inputs: string[];
  outputs: string[];
}

type LayerJson = {
  name: string;
  className: string;
  config: Record<string, unknown>;
  inboundNodes: Array<Array<[string, number, number, unknown]>>;
};
type ModelJson = {
  name: string;
  layers: LayerJson[];
  inputLayers: Array<[string, number, number]>;
  outputLayers: Array<[string, number, number]>;
};

const pair = (v: unknown): [number, number] =>
  Array.isArray(v) ? [Number(v[0]), Number(v[v.length > 1 ? 1 : 0])] : [Number(v), Number(v)];

/** One tfjs layers model as a graph; `part` and `format` only word the errors. */
export function modelGraph(model: tf.LayersModel, part: ExportPart, format: ExportFormat): Graph {
  const cfg = model.getConfig() as unknown as ModelJson;
  const fail = (layer: LayerJson, why: string): never => {
    throw new ExportError(
      `${FORMAT_TITLES[format]} export of the ${part} cannot express layer '${layer.name}' (${layer.className}): ${why}.`,
      {
        format,
        part,
        layer: layer.name,
        className: layer.className,
      },
    );
  };
  const nodes: GraphNode[] = [];
  for (const l of cfg.layers) {
    const c = l.config;
    if (!(SUPPORTED_LAYERS as readonly string[]).includes(l.className)) {
      fail(l, `only ${SUPPORTED_LAYERS.join(', ')} layers can be exported to this format`);
    }
    if (l.inboundNodes.length > 1)
      fail(l, 'the layer is used more than once in the model (shared layers are not supported)');
    const inputs = (l.inboundNodes[0] ?? []).map((ref) => {
      if (ref[1] !== 0 || ref[2] !== 0) fail(l, 'it reads a second output of another layer');
      return ref[0];
    });
    if (l.className !== 'InputLayer' && inputs.length !== 1)
      fail(l, 'only layers with exactly one input are supported');
    const layer = model.getLayer(l.name);
    const shape = layer.outputShape as Array<number | null>;
    if (Array.isArray(shape[0])) fail(l, 'the layer has several outputs');
    const node: GraphNode = { name: l.name, op: l.className as NodeOp, inputs, shape, activation: 'linear' };
    if (l.className !== 'InputLayer') node.inShape = nodes.find((n) => n.name === inputs[0])?.shape;
    const act = (c.activation as string | undefined) ?? 'linear';
    if (
      l.className === 'Dense' ||
      l.className === 'Conv2D' ||
      l.className === 'Conv2DTranspose' ||
      l.className === 'Activation'
    ) {
      if (!(SUPPORTED_ACTIVATIONS as readonly string[]).includes(act))
        fail(l, `its activation '${act}' is not one of ${SUPPORTED_ACTIVATIONS.join(', ')}`);
      node.activation = act as Activation;
    }
    if (l.className === 'Dense' || l.className === 'Conv2D' || l.className === 'Conv2DTranspose') {
      const [kernel, bias] = layer
        .getWeights()
        .map((t) => ({ shape: t.shape.slice(), data: t.dataSync() as Float32Array }));
      node.kernel = kernel;
      if (c.useBias !== false) node.bias = bias;
      node.units = Number(l.className === 'Dense' ? c.units : c.filters);
      if (l.className === 'Dense' && node.inShape?.length !== 2)
        fail(
          l,
          `a Dense layer on a rank-${node.inShape?.length} input is not supported (only flat [batch, features] inputs)`,
        );
    }
    if (l.className === 'Conv2D' || l.className === 'Conv2DTranspose') {
      if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast')
        fail(l, `data format '${String(c.dataFormat)}' is not supported (only channels-last)`);
      const dil = pair(c.dilationRate ?? 1);
      if (dil[0] !== 1 || dil[1] !== 1) fail(l, 'dilated convolutions are not supported');
      if (c.padding !== 'same' && c.padding !== 'valid') fail(l, `padding '${String(c.padding)}' is not supported`);
      node.kernelSize = pair(c.kernelSize);
      node.strides = pair(c.strides ?? 1);
      node.padding = c.padding as 'same' | 'valid';
    }
    if (l.className === 'Reshape') node.targetShape = (c.targetShape as number[]).slice();
    if (l.className === 'LeakyReLU') node.alpha = Number(c.alpha ?? 0.3);
    if (l.className === 'Flatten' && c.dataFormat !== undefined && c.dataFormat !== 'channelsLast')
      fail(l, `data format '${String(c.dataFormat)}' is not supported`);
    nodes.push(node);
  }
  return {
    name: cfg.name,
    nodes,
    inputs: cfg.inputLayers.map((r) => r[0]),
    outputs: cfg.outputLayers.map((r) => r[0]),
  };
}

/** Keeps only the nodes the outputs depend on (order preserved). */
function prune(g: Graph): Graph {
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const keep = new Set<string>();
  const visit = (name: string) => {
    if (keep.has(name)) return;
    keep.add(name);
    for (const i of byName.get(name)?.inputs ?? []) visit(i);
  };
  g.outputs.forEach(visit);
  return { ...g, nodes: g.nodes.filter((n) => keep.has(n.name)) };
}

/** The graph of one part of an autoencoder. */
export function partGraph(ae: Autoencoder, part: ExportPart, format: ExportFormat): Graph {
  if (part === 'encoder') return modelGraph(ae.encoder, part, format);
  if (part === 'decoder') return modelGraph(ae.decoder, part, format);
  const enc = modelGraph(ae.encoder, 'encoder', format);
  const dec = modelGraph(ae.decoder, 'decoder', format);
  if (dec.inputs.length !== 1 || enc.inputs.length !== 1)
    throw new ExportError('The encoder and the decoder must each have one input.', { format, part });
  const mean = enc.outputs[0];
  const codeIn = dec.inputs[0];
  const taken = new Set(enc.nodes.map((n) => n.name));
  const rename = new Map<string, string>([[codeIn, mean]]);
  for (const n of dec.nodes) {
    if (n.name === codeIn) continue;
    let name = n.name;
    while (taken.has(name)) name = `${name}_dec`;
    taken.add(name);
    rename.set(n.name, name);
  }
  const decNodes = dec.nodes
    .filter((n) => n.name !== codeIn)
    .map((n) => ({ ...n, name: rename.get(n.name)!, inputs: n.inputs.map((i) => rename.get(i) ?? i) }));
  return prune({
    name: 'autoencoder',
    nodes: [...enc.nodes, ...decNodes],
    inputs: enc.inputs,
    outputs: dec.outputs.map((o) => rename.get(o) ?? o),
  });
}

/** The studio's own outputs for `x` through a part (VAE encoder: [mean, log-variance]). Caller disposes. */
export function predictPart(ae: Autoencoder, part: ExportPart, x: tf.Tensor): tf.Tensor[] {
  return tf.tidy(() => {
    if (part === 'decoder') return [ae.decoder.predict(x) as tf.Tensor];
    const enc = ae.encoder.predict(x) as tf.Tensor | tf.Tensor[];
    const encs = Array.isArray(enc) ? enc : [enc];
    return part === 'encoder' ? encs : [ae.decoder.predict(encs[0]) as tf.Tensor];
  });
}
