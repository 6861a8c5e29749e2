/**
 * The part of node-llama-cpp (llama.cpp for Node) the engine uses, typed here: the package is not a dependency
 * of this project but a runtime the user installs (see install.ts), loaded at run time from its folder.
 * Token ids are plain numbers in both projects (the same Llama 3 vocabulary).
 */
export type LlamaGpuType = 'metal' | 'cuda' | 'vulkan' | false;

export interface LlamaEvaluateOptions {
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  repeatPenalty?: false | { penalty?: number; lastTokens?: number };
  /** Yield end-of-generation tokens instead of stopping at them (the engine applies its own stop tokens). */
  yieldEogToken?: boolean;
}

export interface LlamaSequence {
  readonly contextSize: number;
  readonly nextTokenIndex: number;
  readonly contextTokens: number[];
  compareContextTokens(tokens: number[]): { firstDifferentIndex: number };
  eraseContextTokenRanges(ranges: { start: number; end: number }[]): Promise<void>;
  clearHistory(): Promise<void>;
  evaluateWithoutGeneratingNewTokens(tokens: number[]): Promise<void>;
  evaluate(tokens: number[], options?: LlamaEvaluateOptions): AsyncGenerator<number, void, void | number | number[]>;
  dispose(): Promise<void>;
}

export interface LlamaContext {
  getSequence(): LlamaSequence;
  dispose(): Promise<void>;
}

export interface LlamaModel {
  readonly trainContextSize: number;
  readonly size: number;
  createContext(options: {
    contextSize: number; batchSize?: number; flashAttention?: boolean; sequences?: number;
    ignoreMemorySafetyChecks?: boolean; threads?: number;
  }): Promise<LlamaContext>;
  dispose(): Promise<void>;
}

export interface Llama {
  readonly gpu: LlamaGpuType;
  /** A binary built on this machine (`prolong runtime build`) or a prebuilt one. */
  readonly buildType: 'localBuild' | 'prebuilt';
  readonly cpuMathCores: number;
  getGpuDeviceNames(): Promise<string[]>;
  getVramState(): Promise<{ total: number; used: number; free: number }>;
  loadModel(options: { modelPath: string; gpuLayers?: 'auto' | 'max' | number; ignoreMemorySafetyChecks?: boolean; useMmap?: boolean }): Promise<LlamaModel>;
  dispose(): Promise<void>;
}

export interface NodeLlamaCppModule {
  getLlama(options?: {
    gpu?: 'auto' | LlamaGpuType | { type: 'auto'; exclude: LlamaGpuType[] }; build?: 'never'; logLevel?: 'disabled' | 'fatal' | 'error' | 'warn' | 'info';
    logger?: (level: string, message: string) => void; progressLogs?: boolean; skipDownload?: boolean;
  }): Promise<Llama>;
}
