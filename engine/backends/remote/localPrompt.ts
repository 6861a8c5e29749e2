/**
 * The prompt as the model sees it, rendered here with the model's chat template and tokenizer: used to count
 * tokens when a server has no tokenize endpoint, and as the prompt text for the plain completions API.
 * Loaded on first use (the tokenizer takes most of a second).
 */
import type { GenerateRequest } from '../types';
import { loadTokenizer, type TextTokenizer } from '../../tokenizer';
import { ChatTemplate } from '../../tokenizer/chatTemplate';

export class LocalPrompt {
  private loaded?: { tokenizer: TextTokenizer; template: ChatTemplate };

  /** `tokenizerPath`: a tokenizer.json with its tokenizer_config.json beside it; empty: the bundled Llama 3 one. */
  constructor(private readonly tokenizerPath?: string) {}

  private load(): { tokenizer: TextTokenizer; template: ChatTemplate } {
    this.loaded ??= { tokenizer: loadTokenizer(this.tokenizerPath), template: ChatTemplate.forTokenizer(this.tokenizerPath) };
    return this.loaded;
  }

  get source(): string {
    return this.load().tokenizer.source;
  }

  /** The whole prompt text, special tokens written out, the BOS token included when the template writes it. */
  render(request: Omit<GenerateRequest, 'sampling'>): string {
    return this.load().template.render(request.messages, { addGenerationPrompt: true }) + (request.assistantPrefix ?? '');
  }

  /** The prompt text without a leading BOS, for servers that add BOS themselves to a plain-text prompt. */
  renderWithoutBos(request: Omit<GenerateRequest, 'sampling'>): string {
    const text = this.render(request);
    const bos = this.load().template.specialTokens.bos_token;
    return bos && text.startsWith(bos) ? text.slice(bos.length) : text;
  }

  count(request: Omit<GenerateRequest, 'sampling'>): number {
    return this.load().tokenizer.encodeWithSpecialTokens(this.render(request)).length;
  }
}
