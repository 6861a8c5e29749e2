/**
 * Tiny ONNX models that reshape KV tensors where they live (JavaScript cannot touch a gpu-buffer tensor's
 * data): a slice model that keeps the first `length` positions (to shorten a cache; it doubles as the probe
 * that WebGPU works at all) and a pad model that adds positions at the end (to allocate or grow a
 * pre-allocated cache, keeping what it holds). They run on the model's execution provider, so the results
 * stay on the device.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import {
  GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, OperatorSetIdProtoSchema, TensorProto_DataType, type NodeProto, type ValueInfoProto,
} from 'onnx-buf';
import { valueInfo as onnxValueInfo } from '../../kernels/onnxWriter';

export type KvElementType = 'float32' | 'float16';

const ONNX_TYPES: Record<KvElementType | 'int64' | 'int32', TensorProto_DataType> = {
  float32: TensorProto_DataType.FLOAT,
  float16: TensorProto_DataType.FLOAT16,
  int64: TensorProto_DataType.INT64,
  int32: TensorProto_DataType.INT32,
};

/** A graph input or output with its element type named as onnxruntime-node's tensors name it. */
export function valueInfo(name: string, type: KvElementType | 'int64' | 'int32', dims: (number | string)[]): ValueInfoProto {
  return onnxValueInfo(name, ONNX_TYPES[type], dims);
}

/** Names of the pad model's tensors. */
export const padNames = {
  input: (i: number) => `kv_in.${i}`,
  output: (i: number) => `kv_out.${i}`,
  pads: 'pads',
};

/**
 * `count` inputs `[1, heads, past, headSize]` and int64 `pads` `[8]` (ONNX Pad's begin/end per axis); `count`
 * outputs padded with zeros. Returns the serialized model.
 */
export function buildKvPadModel(count: number, heads: number, headSize: number, type: KvElementType): Uint8Array {
  const nodes = [];
  const inputs: ValueInfoProto[] = [valueInfo(padNames.pads, 'int64', [8])];
  const outputs: ValueInfoProto[] = [];
  for (let i = 0; i < count; i++) {
    inputs.push(valueInfo(padNames.input(i), type, [1, heads, 'past', headSize]));
    outputs.push(valueInfo(padNames.output(i), type, [1, heads, 'capacity', headSize]));
    nodes.push(create(NodeProtoSchema, { opType: 'Pad', input: [padNames.input(i), padNames.pads], output: [padNames.output(i)], name: `pad_${i}` }));
  }
  return serialize('kv_pad', nodes, inputs, outputs);
}

export function serialize(name: string, nodes: NodeProto[], inputs: ValueInfoProto[], outputs: ValueInfoProto[]): Uint8Array {
  const model = create(ModelProtoSchema, {
    irVersion: 9n,
    producerName: 'prolong-engine',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })],
    graph: create(GraphProtoSchema, { name, node: nodes, input: inputs, output: outputs }),
  });
  return toBinary(ModelProtoSchema, model);
}

/** Names of the slice model's tensors. */
export const sliceNames = {
  input: (i: number) => `kv_in.${i}`,
  output: (i: number) => `kv_out.${i}`,
  length: 'length',
  zero: 'zero',
  axis: 'axis',
};

/**
 * `count` inputs `[1, heads, past, headSize]` and an int64 `length` `[1]`; `count` outputs `[1, heads, length, headSize]`.
 * Returns the serialized model.
 */
export function buildKvSliceModel(count: number, heads: number, headSize: number, type: KvElementType): Uint8Array {
  const node = (opType: string, input: string[], output: string[], name: string) =>
    create(NodeProtoSchema, { opType, input, output, name });
  const int64Const = (name: string, value: number) => create(NodeProtoSchema, {
    opType: 'Constant', output: [name], name: `const_${name}`,
    attribute: [{ name: 'value_ints', type: 7 /* INTS */, ints: [BigInt(value)] }],
  });
  const nodes = [int64Const(sliceNames.zero, 0), int64Const(sliceNames.axis, 2)];
  const inputs: ValueInfoProto[] = [valueInfo(sliceNames.length, 'int64', [1])];
  const outputs: ValueInfoProto[] = [];
  for (let i = 0; i < count; i++) {
    inputs.push(valueInfo(sliceNames.input(i), type, [1, heads, 'past', headSize]));
    outputs.push(valueInfo(sliceNames.output(i), type, [1, heads, 'length', headSize]));
    nodes.push(node('Slice', [sliceNames.input(i), sliceNames.zero, sliceNames.length, sliceNames.axis], [sliceNames.output(i)], `slice_${i}`));
  }
  return serialize('kv_slice', nodes, inputs, outputs);
}
