/**
 * The text side of a loaded model, shared by the engine's runtimes (onnxruntime and llama.cpp): the tokenizer,
 * the chat template, the ids that end a turn, and prompts rendered to token ids.
 */
import { existsSync } from 'node:fs';
import type { ChatMessage } from '../backends/types';
import { UserError } from '../errors';
import { loadTokenizer, type TextTokenizer } from '../tokenizer';
import { ChatTemplate } from '../tokenizer/chatTemplate';
import type { PromptInput } from './protocol';

export interface TextSide {
  tokenizer: TextTokenizer;
  template: ChatTemplate | undefined;
  templateError: unknown;
  stopIds: Set<number>;
}

/** `own`: the model's tokenizer.json (it wins: the ids must be the ones it was trained with); else `fallback`, else the bundled Llama 3 one. */
export function loadTextSide(own: string | undefined, fallback: string | undefined, eosTokenIds: readonly number[]): TextSide {
  const path = own && existsSync(own) ? own : fallback || undefined;
  const tokenizer = loadTokenizer(path);
  let template: ChatTemplate | undefined;
  let templateError: unknown;
  try { template = ChatTemplate.forTokenizer(path); } catch (error) { templateError = error; }
  const stopIds = new Set<number>(eosTokenIds);
  for (const id of template?.stopTokenIds(tokenizer) ?? []) stopIds.add(id);
  return { tokenizer, template, templateError, stopIds };
}

const NEXT_TURN_MARK = 'PROLONG-NEXT-USER-TURN-4e1c9b';

/**
 * The text every continuation of `messages` with a user turn starts with: the rendering up to where the next
 * user message's content would begin (so the user header is included). Rendering without a generation prompt
 * is not enough: some templates (Llama 3.0's) always end with the assistant's header.
 */
function partialPrompt(template: ChatTemplate, messages: ChatMessage[]): string {
  let rendered = '';
  try {
    rendered = template.render([...messages, { role: 'user', content: NEXT_TURN_MARK }], { addGenerationPrompt: false });
  } catch {
    // a template that refuses two user turns in a row: fall back to the plain rendering
  }
  const at = rendered.indexOf(NEXT_TURN_MARK);
  return at >= 0 ? rendered.slice(0, at) : template.render(messages, { addGenerationPrompt: false });
}

export function promptTokens(text: TextSide, prompt: PromptInput): number[] {
  if (prompt.kind === 'tokens') return [...prompt.tokens];
  const { tokenizer, template, templateError } = text;
  if (!template) throw templateError instanceof Error ? templateError : new UserError('The model has no chat template.', 'Put its tokenizer_config.json beside its tokenizer.json.');
  const rendered = prompt.partial ? partialPrompt(template, prompt.messages) : template.render(prompt.messages) + (prompt.assistantPrefix ?? '');
  return tokenizer.encodeWithSpecialTokens(rendered);
}
