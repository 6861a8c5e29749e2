/**
 * Counts prompts in the model's own tokens, the way the backend will send them: the chat template rendered
 * around the messages, then the answer prefix (RULER appends it after the template's generation prompt).
 */
import type { ChatMessage } from '../backends/types';
import { ChatTemplate } from '../tokenizer/chatTemplate';
import type { TextTokenizer } from '../tokenizer/types';
import { loadTokenizer } from '../tokenizer';
import { UserError } from '../errors';

export interface PromptCounter {
  /** The tokenizer's source, for results. */
  readonly tokenizer: string;
  /** The chat template's source, or 'none'. */
  readonly chatTemplate: string;
  /** Exact tokens of the whole prompt. */
  countPrompt(messages: readonly ChatMessage[], assistantPrefix: string): number;
  /** Tokens of plain text, for estimates (memoized for short strings, which repeat a lot). */
  countText(text: string): number;
}

export class TemplatePromptCounter implements PromptCounter {
  readonly tokenizer: string;
  readonly chatTemplate: string;
  private readonly memo = new Map<string, number>();

  /** Without a template the prompt is the messages' text joined by blank lines (a base model). */
  constructor(private readonly textTokenizer: TextTokenizer, private readonly template?: ChatTemplate) {
    this.tokenizer = textTokenizer.source;
    this.chatTemplate = template?.source ?? 'none';
  }

  render(messages: readonly ChatMessage[], assistantPrefix: string): string {
    const body = this.template
      ? this.template.render(messages, { addGenerationPrompt: true })
      : messages.map((message) => message.content).join('\n\n');
    return body + assistantPrefix;
  }

  /**
   * Counts like `encodeWithSpecialTokens(prompt).length`: the tokenizer's own added tokens (whatever they look
   * like: `<|eot_id|>`, `<s>`, `[INST]`) are one token each. The fast tokenizer never materializes the ids of a
   * 512K-token prompt at once.
   */
  countPrompt(messages: readonly ChatMessage[], assistantPrefix: string): number {
    return this.textTokenizer.countWithSpecialTokens(this.render(messages, assistantPrefix));
  }

  countText(text: string): number {
    if (text.length > 200) return this.textTokenizer.count(text);
    let count = this.memo.get(text);
    if (count === undefined) {
      count = this.textTokenizer.count(text);
      if (this.memo.size > 200_000) this.memo.clear();
      this.memo.set(text, count);
    }
    return count;
  }
}

/**
 * The counter for a tokenizer.json (empty: the bundled Llama 3 one) and the chat template beside it. Without a
 * usable template, prompts are counted without one and `onNote` says so.
 */
export function promptCounterFor(tokenizerPath: string | undefined, onNote: (message: string) => void): PromptCounter {
  const tokenizer = loadTokenizer(tokenizerPath);
  let template: ChatTemplate | undefined;
  try {
    template = ChatTemplate.forTokenizer(tokenizerPath);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    onNote(`${error.message} Prompts are counted without a chat template.`);
  }
  return new TemplatePromptCounter(tokenizer, template);
}
