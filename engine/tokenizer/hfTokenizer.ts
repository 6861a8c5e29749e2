import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { UserError } from '../errors';
import type { TextTokenizer } from './types';

interface TokenizerJson {
  added_tokens?: { id: number; content: string; special?: boolean }[];
  model?: { type?: string; vocab?: Record<string, number> | unknown[] };
}

/** Reads and parses a tokenizer.json (and its tokenizer_config.json beside it, if any), with errors that name the file. */
export function readTokenizerFiles(tokenizerJsonPath: string, configPath?: string): { json: TokenizerJson; config: Record<string, unknown> } {
  let json: TokenizerJson;
  try {
    json = JSON.parse(readFileSync(tokenizerJsonPath, 'utf8')) as TokenizerJson;
  } catch (error) {
    throw new UserError(`Cannot read the tokenizer ${tokenizerJsonPath}: ${(error as Error).message}.`,
      'Point the setting prolong.tokenizer.path (or --tokenizer) at a Hugging Face tokenizer.json.', { cause: error });
  }
  if (!json || typeof json !== 'object' || !json.model) {
    throw new UserError(`${tokenizerJsonPath} is not a Hugging Face tokenizer.json (it has no "model").`,
      'Use the tokenizer.json from the model\'s Hugging Face repository.');
  }
  let config: Record<string, unknown> = {};
  if (configPath) {
    try {
      config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    } catch {
      config = {};
    }
  }
  return { json, config };
}

/**
 * The reference tokenizer: @huggingface/tokenizers (a faithful port of Hugging Face's Rust tokenizers).
 * Two instances: one with the added tokens emptied, so special-token text in source files counts as plain text
 * (Rust's `encode_special_tokens=True`), and one as shipped, for chat prompts.
 */
export class HfTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  private readonly plain: Tokenizer;
  private readonly withSpecial: Tokenizer;
  private readonly ids = new Map<string, number>();

  constructor(readonly source: string, json: TokenizerJson, config: Record<string, unknown>) {
    this.withSpecial = new Tokenizer(json, config);
    this.plain = new Tokenizer({ ...json, added_tokens: [] }, config);
    const vocab = json.model?.vocab;
    if (vocab && !Array.isArray(vocab)) for (const [token, id] of Object.entries(vocab)) this.ids.set(token, id);
    for (const token of json.added_tokens ?? []) this.ids.set(token.content, token.id);
    let max = -1;
    for (const id of this.ids.values()) if (id > max) max = id;
    this.vocabSize = max + 1;
  }

  static fromFile(tokenizerJsonPath: string, configPath?: string): HfTokenizer {
    const { json, config } = readTokenizerFiles(tokenizerJsonPath, configPath);
    return new HfTokenizer(tokenizerJsonPath, json, config);
  }

  encode(text: string): number[] {
    return this.plain.encode(text, { add_special_tokens: false }).ids;
  }

  count(text: string): number {
    return this.encode(text).length;
  }

  encodeWithSpecialTokens(text: string): number[] {
    return this.withSpecial.encode(text, { add_special_tokens: false }).ids;
  }

  countWithSpecialTokens(text: string): number {
    return this.encodeWithSpecialTokens(text).length;
  }

  decode(ids: readonly number[]): string {
    if (ids.length === 0) return ''; // the library rejects an empty list
    return this.withSpecial.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  tokenId(token: string): number | undefined {
    return this.ids.get(token);
  }
}
