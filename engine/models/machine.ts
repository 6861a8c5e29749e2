// The memory a model's fit is judged against: the GPU's (nvidia-smi) or a configured size, else host memory.
import { availableMemory, type AvailableMemory } from '../runtime/memoryBudget';

/** `gib`: a configured size (prolong.engine.deviceMemoryGiB / --memory-gib); otherwise detected. */
export function machineMemory(gib?: number): AvailableMemory {
  if (gib && gib > 0) return { bytes: gib * 1024 ** 3, source: 'the memory size given' };
  return availableMemory('webgpu');
}
