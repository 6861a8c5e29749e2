/**
 * A tiny ONNX model that keeps the first `length` positions of every KV tensor: the way to shorten a KV cache
 * that lives on the GPU (JavaScript cannot slice a gpu-buffer tensor). It runs on the same execution provider
 * as the model, so the slices stay on the device. It doubles as the probe that WebGPU works at all.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import {
  GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, OperatorSetIdProtoSchema, TensorProto_DataType,
  TensorShapeProtoSchema, TensorShapeProto_DimensionSchema, TypeProtoSchema, TypeProto_TensorSchema, ValueInfoProtoSchema,
  type ValueInfoProto,
} from 'onnx-buf';

export type KvElementType = 'float32' | 'float16';

const ONNX_TYPES: Record<KvElementType | 'int64', TensorProto_DataType> = {
  float32: TensorProto_DataType.FLOAT,
  float16: TensorProto_DataType.FLOAT16,
  int64: TensorProto_DataType.INT64,
};

function valueInfo(name: string, type: KvElementType | 'int64', dims: (number | string)[]): ValueInfoProto {
  const dim = dims.map((d) => create(TensorShapeProto_DimensionSchema, {
    value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d },
  }));
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType: ONNX_TYPES[type], shape: create(TensorShapeProtoSchema, { dim }) }) },
    }),
  });
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
  const model = create(ModelProtoSchema, {
    irVersion: 9n,
    producerName: 'prolong-engine',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })],
    graph: create(GraphProtoSchema, { name: 'kv_slice', node: nodes, input: inputs, output: outputs }),
  });
  return toBinary(ModelProtoSchema, model);
}
