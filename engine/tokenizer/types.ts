/**
 * The tokenizer contract shared by the packer, the backends, the engine and the probes.
 * Counts are exact: the same ids the model's own Hugging Face tokenizer produces.
 */
export interface TextTokenizer {
  /** Where it came from (file path or package name), for reports. */
  readonly source: string;
  readonly vocabSize: number;
  /** Ids of `text` read as plain text: special-token look-alikes such as `<|eot_id|>` in a source file are ordinary text. No BOS. */
  encode(text: string): number[];
  /** Same as `encode(text).length`, possibly faster. */
  count(text: string): number;
  /** Ids where special-token strings become control tokens: for prompts rendered from a chat template. No BOS added. */
  encodeWithSpecialTokens(text: string): number[];
  /** Same as `encodeWithSpecialTokens(text).length`, possibly faster (never holding every id of a long prompt). */
  countWithSpecialTokens(text: string): number;
  /** Text of `ids`, exactly (no clean-up of spaces). Special tokens are written out as their text. */
  decode(ids: readonly number[]): string;
  /** Id of a token string (special or ordinary), if it is in the vocabulary. */
  tokenId(token: string): number | undefined;
}
