// The decode variant of a converted decoder graph, for onnxruntime's WebGPU graph capture (record the GPU
// commands of one decode step once, replay them for every later step). Capture needs every input on the
// GPU with a shape that never changes, so the variant drops the attention mask, whose width grows by one per
// step, and the nodes that turn it into GroupQueryAttention's lengths; it takes those lengths directly:
//   inputs   input_ids               int64 [batch, 1]
//            seqlens_k               int32 [batch]   positions already in the cache (the new token's position)
//            total_sequence_length   int32 []        seqlens_k + 1
//            past_key_values.N.*     [batch, kvHeads, capacity, headSize], the same buffers bound as present.N.*
// Weights are not copied: the variant's initializers point into the model's own external-data file, so it
// is written beside the model (external data is resolved relative to the graph file).
import { readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { UserError } from '../engine/errors';
import { DataType, valueInfo } from './onnxWriter';
import { ioNames } from './sidecar';

/** GroupQueryAttention's length inputs: computed from the mask in the full graph (decoderGraph.ts), inputs here. */
export const decodeInputs = { seqlensK: 'seqlens_k', totalSequenceLength: 'total_sequence_length' } as const;

export function decodeGraphFileName(onnxFile: string): string {
  return onnxFile.replace(/\.onnx$/, '') + '.decode.onnx';
}

/** The decode variant of the serialized graph `model` (see the top of this file). */
export function deriveDecodeGraph(model: Uint8Array, source = 'the model'): Uint8Array {
  const proto = fromBinary(ModelProtoSchema, model);
  const graph = proto.graph;
  if (!graph?.input.some((input) => input.name === ioNames.attentionMask)) {
    throw new UserError(`${source} has no ${ioNames.attentionMask} input: it was not converted by prolong's model builder.`, 'Convert the model with `prolong convert`.');
  }
  const producers = new Map(graph.node.flatMap((node) => node.output.map((output) => [output, node] as const)));
  for (const name of Object.values(decodeInputs)) {
    if (!producers.has(name)) throw new UserError(`${source} computes no ${name}: its graph is not the one prolong's model builder writes.`, 'Convert the model again with `prolong convert`.');
  }
  // Everything upstream of the two lengths goes (it reads only the mask and constants).
  const removed = new Set<object>();
  const pending: string[] = Object.values(decodeInputs);
  while (pending.length > 0) {
    const node = producers.get(pending.pop()!);
    if (!node || removed.has(node)) continue;
    removed.add(node);
    pending.push(...node.input);
  }
  const stillRead = new Set(graph.node.filter((node) => !removed.has(node)).flatMap((node) => node.input));
  if (stillRead.has(ioNames.attentionMask)) throw new UserError(`${source} reads ${ioNames.attentionMask} outside GroupQueryAttention's lengths.`, 'Convert the model again with `prolong convert`.');
  graph.node = graph.node.filter((node) => !removed.has(node));
  // Constants only the removed nodes used would be reported as unused by onnxruntime: drop them too.
  graph.initializer = graph.initializer.filter((init) => stillRead.has(init.name));
  graph.input = graph.input.filter((input) => input.name !== ioNames.attentionMask);
  graph.input.push(valueInfo(decodeInputs.seqlensK, DataType.INT32, ['batch_size']), valueInfo(decodeInputs.totalSequenceLength, DataType.INT32, []));
  return toBinary(ModelProtoSchema, proto);
}

/**
 * Path of the decode variant beside `onnxPath`, written now when it is missing or older than the model.
 * Throws a UserError naming the directory when it cannot be written.
 */
export function ensureDecodeGraph(dir: string, onnxFile: string): string {
  const source = join(dir, onnxFile);
  const target = join(dir, decodeGraphFileName(onnxFile));
  const sourceMs = statSync(source).mtimeMs;
  // a millisecond of slack: a time set through utimes comes back a few nanoseconds off on some filesystems
  const fresh = (() => { try { return statSync(target).mtimeMs >= sourceMs - 1; } catch { return false; } })();
  if (fresh) return target;
  const bytes = deriveDecodeGraph(readFileSync(source), source);
  try {
    // written under another name first, so a reader never sees half a file
    const partial = `${target}.${process.pid}.partial`;
    writeFileSync(partial, bytes);
    // never older than its model (a model dated in the future would otherwise be derived again at every load)
    const now = Date.now();
    const modified = new Date(Math.max(now, Math.ceil(sourceMs) + 1));
    utimesSync(partial, new Date(now), modified);
    renameSync(partial, target);
  } catch (error) {
    throw new UserError(`Could not write the decode graph ${target}: ${(error as Error).message}.`, `Make ${dir} writable, or run the engine with another KV placement.`, { cause: error });
  }
  return target;
}
