/**
 * What both engine runtimes do with a request around the model: the checks before the prompt runs, and the answer
 * built token by token (stop tokens, stop strings, UTF-8-safe text events, the token limit). onnxruntime samples
 * from logits and llama.cpp samples itself; both hand each sampled token to an AnswerStream.
 */
import type { GenerateEvent } from '../backends/types';
import { UserError } from '../errors';
import type { SettingNames } from '../settingNames';
import { StreamDecoder } from '../tokenizer/streamDecoder';
import type { EngineGenerateRequest } from './protocol';
import { StopStringFilter } from './stopStrings';
import type { TextSide } from './textSide';

/** Refuses a prompt the engine cannot run: empty, ids outside the vocabulary (0: not known), or too long with its answer. */
export function checkPrompt(prompt: readonly number[], maxTokens: number, vocab: number, contextTokens: number, names: SettingNames): void {
  if (prompt.length === 0) throw new UserError('The prompt is empty.', 'Ask a question.');
  const outside = vocab > 0 ? prompt.find((t) => !(t >= 0 && t < vocab)) : undefined;
  if (outside !== undefined) throw new UserError(`The prompt has token id ${outside}, outside the model's vocabulary of ${vocab}.`, `Put the model's own tokenizer.json in its directory (or point ${names.tokenizer} at it).`);
  if (prompt.length + maxTokens > contextTokens) {
    throw new UserError(`The prompt has ${prompt.length} tokens; with up to ${maxTokens} answer tokens that exceeds the engine's context of ${contextTokens} tokens.`,
      `Pack less (${names.packBudget}), ask for fewer answer tokens (${names.maxTokens}), or raise ${names.context} if memory allows.`);
  }
}

export class AnswerStream {
  readonly tokens: number[] = [];
  text = '';
  private readonly decoder: StreamDecoder;
  private readonly filter: StopStringFilter;
  private readonly stopIds: Set<number>;
  private cutByStopString = false;

  constructor(side: TextSide, request: EngineGenerateRequest, private readonly maxTokens: number, private readonly onEvent: (event: GenerateEvent) => void) {
    this.decoder = new StreamDecoder(side.tokenizer);
    this.filter = new StopStringFilter(request.sampling.stop ?? []);
    this.stopIds = request.ignoreStopTokens ? new Set<number>() : side.stopIds;
  }

  /** The next sampled token: `stop` or `length` when the answer ends with it, undefined to go on. */
  push(token: number): 'stop' | 'length' | undefined {
    if (this.stopIds.has(token)) return 'stop';
    this.tokens.push(token);
    const shown = this.filter.push(this.decoder.push(token));
    this.emit(shown.text);
    if (shown.stopped) { this.cutByStopString = true; return 'stop'; }
    return this.tokens.length >= this.maxTokens ? 'length' : undefined;
  }

  /** What the decoder and the stop filter still hold belongs to the answer, up to a stop string. */
  finish(): void {
    if (this.cutByStopString) return;
    const tail = this.filter.push(this.decoder.flush());
    this.emit(tail.stopped ? tail.text : tail.text + this.filter.flush());
  }

  private emit(text: string): void {
    if (!text) return;
    this.text += text;
    this.onEvent({ type: 'text', text });
  }
}
