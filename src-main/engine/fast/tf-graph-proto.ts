// The subset of TensorFlow's protocol buffers a SavedModel of one graph needs (saved_model.proto,
// meta_graph.proto, graph.proto, node_def.proto, attr_value.proto, tensor.proto, tensor_shape.proto,
// versions.proto; TensorFlow, Apache-2.0), as a protobufjs JSON descriptor: field numbers and types
// as in TensorFlow's .proto files; fields this project never writes are left out.
import protobuf from 'protobufjs';

const shape = {
  fields: { dim: { rule: 'repeated', type: 'Dim', id: 2 }, unknownRank: { type: 'bool', id: 3 } },
  nested: { Dim: { fields: { size: { type: 'int64', id: 1 }, name: { type: 'string', id: 2 } } } },
};

export const tfProto = protobuf.Root.fromJSON({
  nested: {
    tensorflow: {
      nested: {
        SavedModel: {
          fields: {
            savedModelSchemaVersion: { type: 'int64', id: 1 },
            metaGraphs: { rule: 'repeated', type: 'MetaGraphDef', id: 2 },
          },
        },
        MetaGraphDef: {
          fields: { metaInfoDef: { type: 'MetaInfoDef', id: 1 }, graphDef: { type: 'GraphDef', id: 2 } },
          nested: {
            MetaInfoDef: {
              fields: {
                metaGraphVersion: { type: 'string', id: 1 },
                tags: { rule: 'repeated', type: 'string', id: 4 },
                tensorflowVersion: { type: 'string', id: 5 },
              },
            },
          },
        },
        GraphDef: {
          fields: { node: { rule: 'repeated', type: 'NodeDef', id: 1 }, versions: { type: 'VersionDef', id: 4 } },
        },
        VersionDef: { fields: { producer: { type: 'int32', id: 1 }, minConsumer: { type: 'int32', id: 2 } } },
        NodeDef: {
          fields: {
            name: { type: 'string', id: 1 },
            op: { type: 'string', id: 2 },
            input: { rule: 'repeated', type: 'string', id: 3 },
            device: { type: 'string', id: 4 },
            attr: { keyType: 'string', type: 'AttrValue', id: 5 },
          },
        },
        AttrValue: {
          oneofs: { value: { oneof: ['list', 's', 'i', 'f', 'b', 'type', 'shape', 'tensor'] } },
          fields: {
            list: { type: 'ListValue', id: 1 },
            s: { type: 'bytes', id: 2 },
            i: { type: 'int64', id: 3 },
            f: { type: 'float', id: 4 },
            b: { type: 'bool', id: 5 },
            type: { type: 'int32', id: 6 },
            shape: { type: 'TensorShapeProto', id: 7 },
            tensor: { type: 'TensorProto', id: 8 },
          },
          nested: {
            ListValue: {
              fields: {
                s: { rule: 'repeated', type: 'bytes', id: 2 },
                i: { rule: 'repeated', type: 'int64', id: 3, options: { packed: true } },
                f: { rule: 'repeated', type: 'float', id: 4, options: { packed: true } },
                b: { rule: 'repeated', type: 'bool', id: 5, options: { packed: true } },
                type: { rule: 'repeated', type: 'int32', id: 6, options: { packed: true } },
                shape: { rule: 'repeated', type: 'TensorShapeProto', id: 7 },
              },
            },
          },
        },
        TensorShapeProto: shape,
        TensorProto: {
          fields: {
            dtype: { type: 'int32', id: 1 },
            tensorShape: { type: 'TensorShapeProto', id: 2 },
            tensorContent: { type: 'bytes', id: 4 },
          },
        },
      },
    },
  },
} as unknown as protobuf.INamespace);
