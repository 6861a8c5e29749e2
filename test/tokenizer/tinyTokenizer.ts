// A small byte-level BPE tokenizer.json with Llama 3's pre-tokenizer and a hand-picked merge list, so tests can
// exercise merge order, ignore_merges on and off, and the fallback, without the 9 MB Llama 3 file.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BYTE_TO_CHAR } from '../../engine/tokenizer/byteLevel';
import { tempDir } from '../tempDirs';
import { LLAMA3_SPLIT_PATTERN } from '../../engine/tokenizer/llama3PreTokenizer';

/** Merges in rank order (byte-level spelling: Ġ is a space, Ċ a newline). */
export const TINY_MERGES = [
  'Ġ t', 'h e', 'Ġt he', 'e r', 'Ġ Ġ', 'ĠĠ ĠĠ', 'a a', 'aa aa', 'aaaa aaaa', 'i n', 'in g', 't h', 'th e', 'Ġ a', 'Ġa n', 'Ġan d',
  'Ċ Ċ', 'ĠĠ Ġ', 'o n', 'e n', 'e r', '= =', '== ==', 'ð Ł', 'ðŁ ĺ', '1 2', '12 3', 'Ġ th', 'er s',
];
/** In the vocabulary but reachable by no merge: only `ignore_merges` produces it for a whole piece. */
export const UNMERGED_TOKEN = 'xyz';

export function tinyTokenizerJson(options: { ignoreMerges: boolean; normalizer?: unknown; arrayMerges?: boolean }): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  BYTE_TO_CHAR.forEach((char, byte) => { vocab[char] = byte; });
  let next = 256;
  for (const merge of TINY_MERGES) {
    const token = merge.replace(' ', '');
    if (!(token in vocab)) vocab[token] = next++;
  }
  vocab[UNMERGED_TOKEN] = next++;
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special(next, '<|eot_id|>'), special(next + 1, '<|eot|>')],
    normalizer: options.normalizer ?? null,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: LLAMA3_SPLIT_PATTERN }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ] },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false,
      byte_fallback: false, ignore_merges: options.ignoreMerges, vocab,
      // Newer tokenizer.json files write each merge as a [left, right] pair.
      merges: options.arrayMerges ? TINY_MERGES.map((merge) => merge.split(' ')) : TINY_MERGES },
  };
}

/** Writes it as tokenizer.json in a fresh directory; returns the file's path. */
export function writeTinyTokenizer(options: { ignoreMerges: boolean; normalizer?: unknown; arrayMerges?: boolean }): string {
  const dir = tempDir('prolong-tiny-tokenizer-');
  const path = join(dir, 'tokenizer.json');
  writeFileSync(path, JSON.stringify(tinyTokenizerJson(options)));
  return path;
}
