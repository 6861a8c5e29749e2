// Finds out whether onnxruntime's WebGPU execution provider has an adapter here, by opening a one-node model.
import { join } from 'node:path';
import * as ort from '../engine/runtime/ort';
import { DataType, OnnxModelWriter } from './onnxWriter';

/** undefined when WebGPU works; otherwise onnxruntime's reason (e.g. "No supported adapters"). */
export async function webgpuUnavailableReason(scratchDir: string): Promise<string | undefined> {
  const modelPath = join(scratchDir, 'webgpu-probe.onnx');
  const writer = new OnnxModelWriter(join(scratchDir, 'webgpu-probe.onnx.data'));
  writer.input('x', DataType.FLOAT, [2]);
  writer.node('Relu', ['x'], ['y']);
  writer.output('y', DataType.FLOAT, [2]);
  writer.finish(modelPath, 'probe');
  try {
    const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['webgpu'], logSeverityLevel: 3 });
    await session.release();
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/adapter/i.test(message)) return message.split('\n')[0]!.replace(/^.*?(Failed to get a WebGPU adapter)/, '$1');
    throw error;
  }
}

