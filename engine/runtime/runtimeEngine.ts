/**
 * What the engine's two runtimes share (onnxruntime in engine.ts, llama.cpp in llamacpp/llamaCppEngine.ts): the text
 * side loaded once, prompts rendered to ids, the statistics, and a request's frame: the prompt checked, the run, and
 * the cache reset after a run that failed half-way. Each runtime supplies the run itself.
 */
import type { GenerateEvent } from '../backends/types';
import { UserError } from '../errors';
import { CLI_SETTINGS } from '../settingNames';
import { checkPrompt } from './answerStream';
import type { EngineGenerateRequest, EngineGenerateResult, EngineInfo, EngineStats, LoadOptions, PromptInput } from './protocol';
import { promptTokens, type TextSide } from './textSide';

/**
 * Before a runtime allocates anything: a context longer than the model runs is an error naming what set it (`model`
 * says which model: "the model in DIR"). Returns the tokens per prefill run.
 */
export function checkedChunkTokens(options: LoadOptions, limit: number, model: string): number {
  const names = options.settingNames ?? CLI_SETTINGS;
  if (options.contextTokens > limit) {
    const source = options.contextTokensSource;
    if (source) {
      throw new UserError(`The engine was asked for a ${options.contextTokens}-token context (${source.what}), but ${model} runs at most ${limit} tokens.`,
        `${source.fix.replace('{limit}', String(limit))}, or convert the model with a longer context.`);
    }
    throw new UserError(`The context (${names.context}) is ${options.contextTokens} tokens, but ${model} runs at most ${limit} tokens.`,
      `Set ${names.context} to ${limit} or less (or 0 for the most that fits), or convert the model with a longer context.`);
  }
  return Math.max(1, Math.min(Math.floor(options.prefillChunkTokens) || 2048, options.contextTokens || limit));
}

/** The context to load: the one asked for, or for 0 the model's whole context if it fits, else the longest that does (at least 1K; the packer fits the pack to it). */
export function chosenContext(requested: number, limit: number, fitting: number): number {
  return requested > 0 ? requested : Math.min(limit, Math.max(fitting, Math.min(limit, 1024)));
}

export abstract class RuntimeEngine {
  private text: TextSide | undefined;
  protected readonly statistics: EngineStats = {
    cachedTokens: 0, lastReusedTokens: 0, lastPrefilledTokens: 0, prefillMs: 0, decodeMs: 0, decodeTokens: 0, peakRssBytes: 0,
  };

  abstract readonly info: EngineInfo;
  protected abstract readonly options: LoadOptions;
  /** The tokenizer, chat template and stop ids of this model. */
  protected abstract loadTextSide(): TextSide;
  /** The model's vocabulary size (0: not known). */
  protected abstract vocabularySize(): number;
  /** Tokens whose KV the runtime holds now. */
  protected abstract cachedTokens(): number;
  protected abstract runRequest(prompt: number[], maxTokens: number, request: EngineGenerateRequest,
    onEvent: (event: GenerateEvent) => void, signal: AbortSignal, start: number): Promise<EngineGenerateResult>;
  /** After a run that failed: the cache may be half-written, the next request starts from scratch. */
  protected abstract resetAfterFailure(): Promise<void>;
  abstract dispose(): Promise<void>;

  protected textSide(): TextSide {
    this.text ??= this.loadTextSide();
    return this.text;
  }

  promptTokens(prompt: PromptInput): number[] {
    return promptTokens(this.textSide(), prompt);
  }

  stats(): EngineStats {
    this.statistics.cachedTokens = this.cachedTokens();
    this.statistics.peakRssBytes = process.resourceUsage().maxRSS * 1024;
    return { ...this.statistics };
  }

  /**
   * A run's start: records how much of the prompt the cache serves and says so, and gives the builder of its result
   * (finish reason, answer text and tokens, time to first token, prefill and decode time).
   */
  protected runStarted(prompt: readonly number[], cached: number, request: EngineGenerateRequest, onEvent: (event: GenerateEvent) => void, start: number) {
    this.statistics.lastReusedTokens = cached;
    this.statistics.lastPrefilledTokens = prompt.length - cached;
    onEvent({ type: 'prefill', doneTokens: cached, totalTokens: prompt.length, reusedTokens: cached });
    return (finishReason: EngineGenerateResult['finishReason'], text: string, tokens: number[], ttft: number, prefillMs: number, decodeMs: number): EngineGenerateResult => ({
      text, finishReason, promptTokens: prompt.length, completionTokens: tokens.length, cachedPromptTokens: cached,
      timeToFirstTokenMs: ttft, totalMs: performance.now() - start, prefillMs, decodeMs,
      ...(request.returnTokens ? { tokens } : {}),
    });
  }

  async generate(request: EngineGenerateRequest, onEvent: (event: GenerateEvent) => void, signal: AbortSignal): Promise<EngineGenerateResult> {
    const start = performance.now();
    const prompt = this.promptTokens(request.prompt);
    const maxTokens = Math.max(0, Math.floor(request.sampling.maxTokens));
    checkPrompt(prompt, maxTokens, this.vocabularySize(), this.info.contextTokens, this.options.settingNames ?? CLI_SETTINGS);
    try {
      return await this.runRequest(prompt, maxTokens, request, onEvent, signal, start);
    } catch (error) {
      await this.resetAfterFailure();
      throw error;
    }
  }
}
