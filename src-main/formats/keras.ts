// Keras 3 `.keras` archive: a zip (stored, not deflated, as Keras writes it) of
//   metadata.json     {"keras_version", "date_saved"}
//   config.json       the Functional model: {module, class_name, config: {name, trainable, layers,
//                     input_layers, output_layers}, registered_name, build_config, compile_config}
//   model.weights.h5  HDF5: /layers/<key>/vars/{0,1,…} per layer and /vars for the model, where
//                     <key> is the snake_case class name of each layer in model.layers order with
//                     _1, _2… for repeats (keras/src/saving/saving_lib.py), not the layer's name.
// Layout taken from archives Keras 3.15.1 writes for the same layers; the layer order is Keras's
// own (keras/src/ops/function.py map_graph: depth from the outputs descending, ties in the order a
// depth-first walk from the outputs first meets them), so the weight keys match what it loads.
// Weight layouts are the same in tfjs and Keras (Dense [in, units], Conv2D [kh, kw, in, out],
// Conv2DTranspose [kh, kw, out, in]); channels-last throughout.
import fs from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import type { Graph, GraphNode } from './graph';
import { loadH5wasm } from './hdf5';
import { writeFileAtomic, type ExportResult } from './output';

/** The Keras version whose archive layout this writer reproduces. */
export const KERAS_LAYOUT_VERSION = '3.15.1';

/** keras/src/utils/naming.py to_snake_case. */
export function toSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** Keras's order of a functional model's layers (see the header). */
export function kerasLayerOrder(g: Graph): GraphNode[] {
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const index = new Map<string, number>();
  const visit = (name: string) => {
    if (index.has(name)) return;
    index.set(name, index.size);
    for (const i of byName.get(name)!.inputs) visit(i);
  };
  g.outputs.forEach(visit);
  const consumers = new Map<string, string[]>();
  for (const n of g.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n.name]);
  const depth = new Map<string, number>();
  const depthOf = (name: string): number => {
    if (!depth.has(name)) depth.set(name, Math.max(0, ...(consumers.get(name) ?? []).map((c) => depthOf(c) + 1)));
    return depth.get(name)!;
  };
  return [...g.nodes].sort((a, b) => depthOf(b.name) - depthOf(a.name) || index.get(a.name)! - index.get(b.name)!);
}

const dtypePolicy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const initializer = (cls: 'GlorotUniform' | 'Zeros') => ({
  module: 'keras.initializers',
  class_name: cls,
  config: cls === 'Zeros' ? {} : { seed: null, input_axes: null, output_axes: null },
  registered_name: null,
});
const common = (n: GraphNode) => ({ name: n.name, trainable: true, dtype: dtypePolicy });
const weightsConfig = (n: GraphNode) => ({
  activation: n.activation,
  use_bias: !!n.bias,
  kernel_initializer: initializer('GlorotUniform'),
  bias_initializer: initializer('Zeros'),
  kernel_regularizer: null,
  bias_regularizer: null,
});

function layerConfig(n: GraphNode): Record<string, unknown> {
  switch (n.op) {
    case 'InputLayer':
      return { batch_shape: n.shape, dtype: 'float32', sparse: false, ragged: false, name: n.name, optional: false };
    case 'Dense':
      return {
        ...common(n),
        units: n.units,
        ...weightsConfig(n),
        kernel_constraint: null,
        bias_constraint: null,
        quantization_config: null,
      };
    case 'Conv2D':
    case 'Conv2DTranspose':
      return {
        ...common(n),
        filters: n.units,
        kernel_size: n.kernelSize,
        strides: n.strides,
        padding: n.padding,
        ...(n.op === 'Conv2DTranspose' ? { output_padding: null } : {}),
        data_format: 'channels_last',
        dilation_rate: [1, 1],
        ...(n.op === 'Conv2D' ? { groups: 1 } : {}),
        ...weightsConfig(n),
        activity_regularizer: null,
        kernel_constraint: null,
        bias_constraint: null,
      };
    case 'Flatten':
      return { ...common(n), data_format: 'channels_last' };
    case 'Reshape':
      return { ...common(n), target_shape: n.targetShape };
    case 'Activation':
      return { ...common(n), activation: n.activation };
    case 'LeakyReLU':
      return { ...common(n), negative_slope: n.alpha };
  }
}

/** config.json of the graph as a Keras Functional model. */
export function kerasConfig(g: Graph, order = kerasLayerOrder(g)): Record<string, unknown> {
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const ref = (name: string) => [name, 0, 0];
  const layers = order.map((n) => {
    const entry: Record<string, unknown> = {
      module: 'keras.layers',
      class_name: n.op,
      config: layerConfig(n),
      registered_name: null,
    };
    if (['Dense', 'Conv2D', 'Conv2DTranspose', 'Flatten'].includes(n.op))
      entry.build_config = { input_shape: n.inShape };
    entry.name = n.name;
    entry.inbound_nodes = n.inputs.length
      ? [
          {
            args: n.inputs.map((i) => ({
              class_name: '__keras_tensor__',
              config: { shape: byName.get(i)!.shape, dtype: 'float32', keras_history: ref(i) },
            })),
            kwargs: {},
          },
        ]
      : [];
    return entry;
  });
  const io = (names: string[]) => (names.length === 1 ? ref(names[0]) : names.map(ref));
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: { name: g.name, trainable: true, layers, input_layers: io(g.inputs), output_layers: io(g.outputs) },
    registered_name: 'Functional',
    build_config: { input_shape: null },
    compile_config: {},
  };
}

/** model.weights.h5 bytes for the graph's weights, in Keras's group layout. */
export async function kerasWeightsH5(g: Graph, order: GraphNode[], scratch: string): Promise<Uint8Array> {
  const h5 = await loadH5wasm();
  const f = new h5.File(scratch, 'w');
  try {
    const layersGroup = f.create_group('layers');
    const used = new Map<string, number>();
    for (const n of order) {
      let key = toSnakeCase(n.op);
      const k = used.get(key);
      used.set(key, (k ?? -1) + 1);
      if (k !== undefined) key = `${key}_${k + 1}`;
      const vars = layersGroup.create_group(key).create_group('vars');
      vars.create_attribute('name', n.name);
      const ws = [n.kernel, n.bias].filter((w) => w !== undefined);
      ws.forEach((w, i) => vars.create_dataset({ name: String(i), data: w.data, shape: w.shape, dtype: '<f' }));
    }
    f.create_group('vars').create_attribute('name', g.name);
  } finally {
    f.close();
  }
  const bytes = new Uint8Array(fs.readFileSync(scratch));
  fs.rmSync(scratch, { force: true });
  return bytes;
}

/**
 * `inspection`: an inspection run's settings, kept in metadata.json under `autoencoder_studio_inspection`;
 * `sampler`: the run's chosen sampler (name and fitted parameters), under `autoencoder_studio_sampler`
 * (Keras ignores keys it does not know).
 */
export async function exportKeras(
  g: Graph,
  out: string,
  inspection?: unknown,
  sampler?: unknown,
): Promise<ExportResult> {
  const order = kerasLayerOrder(g);
  const config = kerasConfig(g, order);
  return writeFileAtomic(out, async (tmp) => {
    const scratch = path.join(path.dirname(tmp), `${path.basename(tmp)}.weights.h5`);
    let weights: Uint8Array;
    try {
      weights = await kerasWeightsH5(g, order, scratch);
    } finally {
      fs.rmSync(scratch, { force: true });
    }
    const now = new Date();
    const p2 = (v: number) => String(v).padStart(2, '0');
    const metadata = {
      keras_version: KERAS_LAYOUT_VERSION,
      date_saved: `${now.getFullYear()}-${p2(now.getMonth() + 1)}-${p2(now.getDate())}@${p2(now.getHours())}:${p2(now.getMinutes())}:${p2(now.getSeconds())}`,
      ...(inspection ? { autoencoder_studio_inspection: inspection } : {}),
      ...(sampler ? { autoencoder_studio_sampler: sampler } : {}),
    };
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    const zip = zipSync(
      { 'metadata.json': enc(metadata), 'config.json': enc(config), 'model.weights.h5': weights },
      { level: 0 },
    );
    fs.writeFileSync(tmp, zip);
  });
}
