import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Template } from '@huggingface/jinja';
import type { ChatMessage } from '../backends/types';
import { UserError } from '../errors';
import { resolveTokenizerPath } from './index';
import type { TextTokenizer } from './types';

/** The special-token names transformers passes to every chat template (its `special_tokens_map`). */
const SPECIAL_TOKEN_NAMES = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;

/** The end-of-turn token of Llama 3 instruct models; it stops generation even where the config's eos is another token. */
const END_OF_TURN = '<|eot_id|>';

export interface RenderOptions {
  /** Ask the template to end with the assistant's header (transformers' `add_generation_prompt`). Default true. */
  addGenerationPrompt?: boolean;
}

/**
 * A model's chat template from its tokenizer_config.json, rendered the way transformers' `apply_chat_template`
 * does (Jinja with trim_blocks and lstrip_blocks, special tokens and `add_generation_prompt` as variables).
 * One known difference: @huggingface/jinja's `trim` is JavaScript's (strips U+FEFF, keeps U+0085 and U+001C-U+001F),
 * Python's `strip` the opposite; it matters only for message contents that start or end with those characters.
 */
export class ChatTemplate {
  private readonly template: Template;

  constructor(
    /** The file the template came from, for reports and errors. */
    readonly source: string,
    templateText: string,
    /** bos_token, eos_token, ... as transformers' `special_tokens_map` has them (only those set). */
    readonly specialTokens: Readonly<Record<string, string>>,
  ) {
    try {
      this.template = new Template(templateText);
    } catch (error) {
      throw new UserError(`The chat template in ${source} does not parse: ${(error as Error).message}.`,
        'Use the tokenizer_config.json from the model\'s Hugging Face repository.', { cause: error });
    }
  }

  /**
   * Reads the chat template of the tokenizer at `tokenizerPath` (tokenizer_config.json beside it, or a
   * chat_template.jinja there); no path: the bundled Llama 3 one.
   */
  static forTokenizer(tokenizerPath?: string): ChatTemplate {
    const dir = dirname(resolveTokenizerPath(tokenizerPath));
    return ChatTemplate.fromConfigFile(join(dir, 'tokenizer_config.json'));
  }

  /** Reads a tokenizer_config.json; its template may also live in chat_template.jinja beside it (newer transformers). */
  static fromConfigFile(configPath: string): ChatTemplate {
    const hint = 'Put the model\'s tokenizer_config.json (with its chat_template) beside its tokenizer.json.';
    let config: Record<string, unknown>;
    try {
      config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new UserError(`Cannot read the tokenizer config ${configPath}: ${(error as Error).message}.`, hint, { cause: error });
    }
    let templateText = pickTemplate(config.chat_template);
    let source = configPath;
    const jinjaPath = join(dirname(configPath), 'chat_template.jinja');
    if (templateText === undefined && existsSync(jinjaPath)) {
      templateText = readFileSync(jinjaPath, 'utf8');
      source = jinjaPath;
    }
    if (templateText === undefined) throw new UserError(`${configPath} has no chat_template.`, hint);
    const specialTokens: Record<string, string> = {};
    for (const name of SPECIAL_TOKEN_NAMES) {
      const token = tokenText(config[name]);
      if (token !== undefined) specialTokens[name] = token;
    }
    return new ChatTemplate(source, templateText, specialTokens);
  }

  /** The prompt text for `messages`, special tokens written out as text (encode it with `encodeWithSpecialTokens`). */
  render(messages: readonly ChatMessage[], options: RenderOptions = {}): string {
    try {
      return this.template.render({
        ...this.specialTokens,
        messages: messages.map((message) => ({ role: message.role, content: message.content })),
        add_generation_prompt: options.addGenerationPrompt ?? true,
        // transformers always passes these, as None when unused; templates test them with `is none`/`is defined`.
        tools: null,
        documents: null,
      });
    } catch (error) {
      throw new UserError(`The chat template in ${this.source} failed: ${(error as Error).message}.`,
        'Check the messages (roles must alternate as the model expects) or use another tokenizer_config.json.', { cause: error });
    }
  }

  /** Ids that end the model's turn: the config's eos token, plus `<|eot_id|>` when the vocabulary has it. */
  stopTokenIds(tokenizer: TextTokenizer): number[] {
    const ids: number[] = [];
    for (const token of [this.specialTokens.eos_token, END_OF_TURN]) {
      const id = token === undefined ? undefined : tokenizer.tokenId(token);
      if (id !== undefined && !ids.includes(id)) ids.push(id);
    }
    return ids;
  }
}

/** `chat_template` is a string, or a list of `{ name, template }` where transformers uses the one named "default". */
function pickTemplate(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const entries = value.filter((entry): entry is { name: string; template: string } =>
      typeof entry === 'object' && entry !== null && typeof entry.name === 'string' && typeof entry.template === 'string');
    return entries.find((entry) => entry.name === 'default')?.template;
  }
  return undefined;
}

/** A special token in a config is a string or an AddedToken object `{ content, ... }`. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}
