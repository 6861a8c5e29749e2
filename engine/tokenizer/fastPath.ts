import { MAX_MERGES, MAX_TOKEN_IDS } from './bpe';
import { BYTE_TO_CHAR } from './byteLevel';
import { LLAMA3_SPLIT_PATTERN } from './llama3PreTokenizer';

/** The parts of a tokenizer.json the fast path reads (everything else must be absent or neutral: see `fastPathProblem`). */
export interface BpeTokenizerJson {
  added_tokens?: { id: number; content: string; special?: boolean; single_word?: boolean; lstrip?: boolean; rstrip?: boolean; normalized?: boolean }[];
  normalizer?: unknown;
  pre_tokenizer?: unknown;
  decoder?: unknown;
  model?: {
    type?: string;
    vocab?: Record<string, number> | unknown[];
    merges?: (string | [string, string])[];
    dropout?: number | null;
    unk_token?: string | null;
    continuing_subword_prefix?: string | null;
    end_of_word_suffix?: string | null;
    byte_fallback?: boolean;
    ignore_merges?: boolean;
  };
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Why the fast path cannot run this tokenizer.json exactly (undefined: it can). It covers byte-level BPE with
 * Llama 3's Split pre-tokenizer: no normalizer, Sequence[Split(LLAMA3_SPLIT_PATTERN, Isolated), ByteLevel(no regex,
 * no prefix space)], a plain BPE model over the full byte alphabet, and added tokens without strip/word options.
 */
export function fastPathProblem(json: BpeTokenizerJson): string | undefined {
  if (json.normalizer !== null && json.normalizer !== undefined) return 'it has a normalizer';
  const pre = json.pre_tokenizer;
  const steps = isObject(pre) && pre.type === 'Sequence' && Array.isArray(pre.pretokenizers) ? pre.pretokenizers as unknown[] : undefined;
  const split = steps?.[0];
  const byteLevel = steps?.[1];
  if (steps?.length !== 2 || !isObject(split) || !isObject(byteLevel)) return 'its pre-tokenizer is not Sequence[Split, ByteLevel]';
  if (split.type !== 'Split' || !isObject(split.pattern) || split.pattern.Regex !== LLAMA3_SPLIT_PATTERN
    || split.behavior !== 'Isolated' || split.invert === true) return 'its Split pre-tokenizer is not Llama 3\'s';
  if (byteLevel.type !== 'ByteLevel' || byteLevel.use_regex !== false || byteLevel.add_prefix_space === true) {
    return 'its ByteLevel pre-tokenizer splits or adds a prefix space';
  }
  if (!isObject(json.decoder) || json.decoder.type !== 'ByteLevel') return 'its decoder is not ByteLevel';
  const model = json.model;
  if (!model || model.type !== 'BPE') return 'its model is not BPE';
  if (!model.vocab || Array.isArray(model.vocab) || !Array.isArray(model.merges)) return 'its BPE model has no vocab map or merges list';
  if (model.dropout || model.continuing_subword_prefix || model.end_of_word_suffix || model.byte_fallback) {
    return 'its BPE model uses dropout, subword prefixes/suffixes or byte fallback';
  }
  for (const char of BYTE_TO_CHAR) if (!(char in model.vocab)) return 'its vocabulary lacks a byte-level token for every byte';
  if (model.merges.length > MAX_MERGES) return `it has more than ${MAX_MERGES} merges`;
  for (const id of Object.values(model.vocab)) if (!Number.isInteger(id) || id < 0 || id >= MAX_TOKEN_IDS) return `it has token ids beyond ${MAX_TOKEN_IDS - 1}`;
  for (const token of json.added_tokens ?? []) if (token.id >= MAX_TOKEN_IDS) return `it has token ids beyond ${MAX_TOKEN_IDS - 1}`;
  for (const token of json.added_tokens ?? []) {
    if (token.single_word || token.lstrip || token.rstrip) return `its added token ${token.content} uses single_word/lstrip/rstrip`;
    if (token.content.length === 0) return 'it has an empty added token';
  }
  return undefined;
}
