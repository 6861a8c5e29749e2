/**
 * Chooses the execution provider: WebGPU when the machine has an adapter (Metal, D3D12, Vulkan), the CPU
 * otherwise, or what the setting forces. The probe is a real session on a tiny model, so "WebGPU works" means
 * onnxruntime could create a device, not just that a library loaded.
 */
import * as ort from 'onnxruntime-node';
import { UserError } from '../errors';
import { buildKvSliceModel } from './kvSliceModel';
import type { ExecutionProviderName, ExecutionProviderSetting } from './protocol';

export interface ProviderChoice {
  name: ExecutionProviderName;
  /** One line for the user: why this one. */
  reason: string;
}

/** Tries to create a WebGPU session; resolves with the failure message, or undefined when it works. */
export async function probeWebGpu(): Promise<string | undefined> {
  try {
    const session = await ort.InferenceSession.create(buildKvSliceModel(1, 1, 1, 'float32'), { executionProviders: ['webgpu'] });
    await session.release();
    return undefined;
  } catch (error) {
    return firstLine(error instanceof Error ? error.message : String(error));
  }
}

export async function chooseExecutionProvider(setting: ExecutionProviderSetting,
  probe: () => Promise<string | undefined> = probeWebGpu): Promise<ProviderChoice> {
  if (setting === 'cpu') return { name: 'cpu', reason: 'CPU: chosen by the execution provider setting (prolong.engine.executionProvider, --ep)' };
  const failure = await probe();
  if (setting === 'webgpu') {
    if (failure === undefined) return { name: 'webgpu', reason: 'WebGPU: chosen by the execution provider setting (prolong.engine.executionProvider, --ep)' };
    throw new UserError(`WebGPU is not available on this machine: ${failure}.`,
      'Set prolong.engine.executionProvider to "auto" or "cpu", or install a GPU driver with Vulkan, Metal or D3D12 support.');
  }
  if (failure === undefined) return { name: 'webgpu', reason: 'WebGPU: a GPU adapter was found' };
  return { name: 'cpu', reason: `CPU: no usable WebGPU adapter (${failure})` };
}

/** onnxruntime's messages start with a source path; keep the part a user can read. */
function firstLine(message: string): string {
  const line = message.split('\n')[0] ?? message;
  const readable = line.match(/was false\. (.*)$/)?.[1] ?? line;
  return readable.trim();
}
