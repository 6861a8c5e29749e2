// Builds an ONNX model with onnx-buf (the ONNX protobuf schema) while streaming every large initializer
// into one external-data file as it is added, so the model proto itself stays small and models over the
// 2 GiB protobuf limit work. Call finish() to write the .onnx file.
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema, AttributeProto_AttributeType, GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema, TensorProtoSchema, TensorProto_DataLocation, TensorProto_DataType, TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema, TypeProtoSchema, TypeProto_TensorSchema, ValueInfoProtoSchema,
  type NodeProto, type TensorProto, type ValueInfoProto,
} from 'onnx-buf';

export const DataType = TensorProto_DataType;
export type DataType = TensorProto_DataType;

export type AttributeValue = number | number[] | string | { float: number };

/** Initializers at least this large go to the external-data file; smaller ones stay inline. */
const externalThreshold = 1024;
/** Offsets in the data file are multiples of this, so onnxruntime can memory-map the weights. */
const alignment = 4096;

export class OnnxModelWriter {
  private nodes: NodeProto[] = [];
  private initializers: TensorProto[] = [];
  private inputs: ValueInfoProto[] = [];
  private outputs: ValueInfoProto[] = [];
  private dataFd: number;
  private dataOffset = 0;
  private counter = 0;
  private readonly dataFileName: string;

  /** Opens (truncates) `dataPath`; it must sit beside the .onnx file finish() writes. */
  constructor(dataPath: string) {
    this.dataFileName = basename(dataPath);
    this.dataFd = openSync(dataPath, 'w');
  }

  /** Bytes written to the external-data file so far. */
  get externalBytes(): number {
    return this.dataOffset;
  }

  /** A fresh tensor name with a readable prefix. */
  name(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  input(name: string, type: DataType, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: DataType, dims: (number | string)[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** Adds a node; returns its output names (`outputs` as a count makes fresh names). */
  node(opType: string, inputs: string[], outputs: string[] | number, attributes: Record<string, AttributeValue> = {}, domain = ''): string[] {
    const outputNames = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.name(opType)) : outputs;
    this.nodes.push(create(NodeProtoSchema, {
      opType, domain, input: inputs, output: outputNames, name: this.name(`${opType}_node`),
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    }));
    return outputNames;
  }

  /** Adds an initializer from raw little-endian bytes; large ones are appended to the external-data file. */
  initializer(name: string, type: DataType, dims: number[], bytes: Uint8Array): string {
    const tensor = create(TensorProtoSchema, { name, dataType: type, dims: dims.map(BigInt) });
    if (bytes.byteLength < externalThreshold) {
      tensor.rawData = new Uint8Array(bytes);
    } else {
      const padding = (alignment - (this.dataOffset % alignment)) % alignment;
      if (padding) { writeAll(this.dataFd, new Uint8Array(padding)); this.dataOffset += padding; }
      writeAll(this.dataFd, bytes);
      tensor.dataLocation = TensorProto_DataLocation.EXTERNAL;
      tensor.externalData = [
        create(StringStringEntryProtoSchema, { key: 'location', value: this.dataFileName }),
        create(StringStringEntryProtoSchema, { key: 'offset', value: String(this.dataOffset) }),
        create(StringStringEntryProtoSchema, { key: 'length', value: String(bytes.byteLength) }),
      ];
      this.dataOffset += bytes.byteLength;
    }
    this.initializers.push(tensor);
    return name;
  }

  int64s(name: string, values: number[], dims: number[] = [values.length]): string {
    return this.initializer(name, DataType.INT64, dims, new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer));
  }

  /** Writes the model proto to `modelPath` and closes the data file. */
  finish(modelPath: string, graphName: string, metadata: Record<string, string> = {}): void {
    closeSync(this.dataFd);
    const model = create(ModelProtoSchema, {
      irVersion: 10n,
      producerName: 'prolong-kernels',
      producerVersion: '1',
      opsetImport: [
        create(OperatorSetIdProtoSchema, { domain: '', version: 21n }),
        create(OperatorSetIdProtoSchema, { domain: 'com.microsoft', version: 1n }),
      ],
      metadataProps: Object.entries(metadata).map(([key, value]) => create(StringStringEntryProtoSchema, { key, value })),
      graph: create(GraphProtoSchema, {
        name: graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs,
      }),
    });
    writeFileSync(modelPath, toBinary(ModelProtoSchema, model));
  }

  /** Closes the data file without writing a model (after a failure). */
  abandon(): void {
    try { closeSync(this.dataFd); } catch { /* already closed */ }
  }
}

/** A graph input or output: element type and dims (numbers, or names for symbolic dims). */
export function valueInfo(name: string, type: DataType, dims: (number | string)[]): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: type,
          shape: create(TensorShapeProtoSchema, {
            dim: dims.map((d) => create(TensorShapeProto_DimensionSchema, {
              value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d },
            })),
          }),
        }),
      },
    }),
  });
}

function attribute(name: string, value: AttributeValue) {
  if (typeof value === 'string') return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.STRING, s: new TextEncoder().encode(value) });
  if (Array.isArray(value)) return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INTS, ints: value.map(BigInt) });
  if (typeof value === 'object') return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOAT, f: value.float });
  if (!Number.isInteger(value)) throw new Error(`attribute ${name}: ${value} is not an integer; pass { float } for floats`);
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(value) });
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, Math.min(bytes.byteLength - done, 1 << 30));
}
