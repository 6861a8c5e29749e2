import { BpeMerges } from './bpe';
import { BYTE_TO_CHAR, tokenBytes } from './byteLevel';
import type { BpeTokenizerJson } from './fastPath';
import { PieceTable, type PieceTableParts } from './pieceTable';

/**
 * Everything the fast tokenizer needs, as typed arrays (plus the short added-token list), built from a
 * tokenizer.json once; `compiledCache.ts` saves it as bytes so later loads skip JSON parsing and table building.
 */
export interface CompiledBpe {
  vocabSize: number;
  /** Whole pieces found in the vocabulary take its id without merging (Llama 3 sets `ignore_merges`). */
  ignoreMerges: boolean;
  /** Id of the single-byte token for each byte value. */
  byteIds: Int32Array;
  /** BpeMerges' tables. */
  merges: Float64Array;
  mergedByRank: Int32Array;
  /** Text of each vocabulary token that is whole UTF-8 -> its id (only with ignoreMerges; else empty). */
  pieces: PieceTableParts;
  /** Bytes of token `id` are tokenBytes[tokenOffsets[id] .. tokenOffsets[id + 1]) (added tokens: their UTF-8 text). */
  tokenBytes: Uint8Array;
  tokenOffsets: Int32Array;
  /** Ids of the tokens that exist (a vocabulary may have gaps). */
  known: Uint8Array;
  addedTokens: { id: number; content: string }[];
}

/** Builds the compiled form; `json` must have passed `fastPathProblem`. */
export function compileBpe(json: BpeTokenizerJson): CompiledBpe {
  const model = json.model!;
  const vocab = model.vocab as Record<string, number>;
  const ignoreMerges = model.ignore_merges === true;
  const encoder = new TextEncoder();
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  const idByToken = new Map<string, number>();
  let maxId = -1;
  for (const token in vocab) {
    const id = vocab[token]!;
    idByToken.set(token, id);
    if (id > maxId) maxId = id;
  }
  const addedTokens = (json.added_tokens ?? []).map((token) => ({ id: token.id, content: token.content }));
  for (const token of addedTokens) if (token.id > maxId) maxId = token.id;
  const vocabSize = maxId + 1;

  const bytesById: (Uint8Array | undefined)[] = new Array(vocabSize);
  const pieces = new PieceTable();
  for (const [token, id] of idByToken) {
    const bytes = tokenBytes(token)!;
    bytesById[id] = bytes;
    if (!ignoreMerges) continue;
    let text: string;
    try {
      text = strict.decode(bytes);
    } catch {
      continue; // part of a UTF-8 sequence: never a whole piece
    }
    pieces.add(text, 0, text.length, [id]);
  }
  for (const token of addedTokens) bytesById[token.id] = encoder.encode(token.content);

  const tokenOffsets = new Int32Array(vocabSize + 1);
  const known = new Uint8Array(vocabSize);
  let total = 0;
  for (let id = 0; id < vocabSize; id++) {
    tokenOffsets[id] = total;
    total += bytesById[id]?.length ?? 0;
    if (bytesById[id]) known[id] = 1;
  }
  tokenOffsets[vocabSize] = total;
  const allBytes = new Uint8Array(total);
  bytesById.forEach((bytes, id) => { if (bytes) allBytes.set(bytes, tokenOffsets[id]!); });

  const byteIds = new Int32Array(256);
  BYTE_TO_CHAR.forEach((char, byte) => { byteIds[byte] = idByToken.get(char)!; });
  const mergeList = model.merges!;
  const triples = new Int32Array(mergeList.length * 3);
  mergeList.forEach((merge, rank) => {
    let left: string;
    let right: string;
    if (typeof merge === 'string') {
      const space = merge.indexOf(' ');
      left = merge.slice(0, space);
      right = merge.slice(space + 1);
    } else [left, right] = merge;
    const leftId = idByToken.get(left);
    const rightId = idByToken.get(right);
    const mergedId = idByToken.get(left + right);
    if (leftId === undefined || rightId === undefined || mergedId === undefined) {
      throw new Error(`merge "${left} ${right}" names a token missing from the vocabulary`);
    }
    triples[rank * 3] = leftId;
    triples[rank * 3 + 1] = rightId;
    triples[rank * 3 + 2] = mergedId;
  });
  const { table: merges, mergedByRank } = BpeMerges.build(byteIds, triples);

  return { vocabSize, ignoreMerges, byteIds, merges, mergedByRank, pieces: pieces.parts(), tokenBytes: allBytes, tokenOffsets, known, addedTokens };
}
