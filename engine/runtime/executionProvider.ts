/**
 * Chooses the execution provider: WebGPU when the machine has an adapter (Metal, D3D12, Vulkan), the CPU
 * otherwise, or what the setting forces. The probe is a real session on a tiny model, so "WebGPU works" means
 * onnxruntime could create a device, not just that a library loaded.
 */
import { existsSync, readdirSync } from 'node:fs';
import * as ort from './ort';
import { UserError } from '../errors';
import { buildKvSliceModel } from './kvSliceModel';
import type { ExecutionProviderName, ExecutionProviderSetting } from './protocol';
import { CLI_SETTINGS, type SettingNames } from '../settingNames';

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

/**
 * On Linux a GPU shows up as a device node (/dev/dri/renderD*, /dev/nvidia0...). Without one, any WebGPU adapter is
 * software rendering (Mesa's lavapipe), 5-20x slower than the CPU provider, so `auto` must not pick it.
 * Elsewhere (macOS, Windows) this cannot be told from files: undefined.
 */
export function linuxHardwareGpu(platform: NodeJS.Platform = process.platform, listDir: (dir: string) => string[] = safeList): boolean | undefined {
  if (platform !== 'linux') return undefined;
  return listDir('/dev/dri').some((name) => name.startsWith('renderD')) || listDir('/dev').some((name) => /^nvidia\d+$/.test(name));
}

function safeList(dir: string): string[] {
  try { return existsSync(dir) ? readdirSync(dir) : []; } catch { return []; }
}

export async function chooseExecutionProvider(setting: ExecutionProviderSetting,
  probe: () => Promise<string | undefined> = probeWebGpu, hardwareGpu: () => boolean | undefined = linuxHardwareGpu,
  names: SettingNames = CLI_SETTINGS): Promise<ProviderChoice> {
  if (setting === 'cpu') return { name: 'cpu', reason: `CPU: chosen by ${names.executionProvider}` };
  if (setting === 'auto' && hardwareGpu() === false) {
    return { name: 'cpu', reason: 'CPU: no GPU device on this machine (/dev/dri, /dev/nvidia*); a WebGPU adapter here would be software rendering, slower than the CPU' };
  }
  const failure = await probe();
  if (setting === 'webgpu') {
    if (failure === undefined) return { name: 'webgpu', reason: `WebGPU: chosen by ${names.executionProvider}` };
    throw new UserError(`WebGPU is not available on this machine: ${failure}.`,
      `Set ${names.executionProvider} to "auto" or "cpu", or install a GPU driver with Vulkan, Metal or D3D12 support.`);
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
