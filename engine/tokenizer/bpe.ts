/**
 * Byte-pair merging by merge rank, as Hugging Face's BPE model does it: repeatedly merge the adjacent pair with
 * the lowest rank, leftmost first on ties, until no adjacent pair has a merge. Each merge is one float64 in an
 * open-addressing table, (left * 2^17 + right) * 2^19 + rank (exact below 2^53), so a lookup reads 8 bytes from
 * a table half the size of a struct layout (fewer cache misses: merging is the tokenizer's cold path), and the
 * merged ids sit in a separate array by rank. Both can be saved and loaded as bytes.
 */
import { MinHeap } from '../util/minHeap';

/** Pieces up to this many bytes merge by rescanning (fast for short words); longer ones use a heap (n log n). */
const SHORT_PIECE = 48;
const EMPTY = -1;
const NO_MERGE = 0x7fffffff;
/** Token ids and ranks must fit these many bits for the packed entries (fastPathProblem checks). */
export const MAX_TOKEN_IDS = 2 ** 17;
export const MAX_MERGES = 2 ** 19;

function pairHash(left: number, right: number): number {
  let h = Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 0x7f4a7c15, 0x85ebca77);
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d) ^ (h >>> 12);
}

export class BpeMerges {
  private readonly mask: number;
  /** Rank (or NO_MERGE) and merged id of each pair of single-byte tokens, indexed by (first byte << 8) | second. */
  private readonly bytePairRanks = new Int32Array(65536);
  private readonly bytePairMerged = new Int32Array(65536);

  constructor(
    /** Id of the single-byte token for each byte value. */
    private readonly byteIds: Int32Array,
    /** Packed (pair, rank) entries, EMPTY (-1) in free slots; a power-of-two length. */
    readonly table: Float64Array,
    /** The id each rank's pair merges into. */
    readonly mergedByRank: Int32Array,
  ) {
    this.mask = table.length - 1;
    // Pieces start as single bytes: their first round of lookups reads this 256 x 256 table instead of hashing.
    for (let pair = 0; pair < 65536; pair++) {
      const rank = this.rank(byteIds[pair >> 8]!, byteIds[pair & 0xff]!);
      this.bytePairRanks[pair] = rank < 0 ? NO_MERGE : rank;
      this.bytePairMerged[pair] = rank < 0 ? 0 : mergedByRank[rank]!;
    }
  }

  /** Builds the tables from pairs of token ids in rank order and the id each pair merges into (triples). */
  static build(byteIds: Int32Array, merges: Int32Array): BpeMerges {
    const count = merges.length / 3;
    let slots = 1;
    while (slots < count * 1.5) slots *= 2;
    const table = new Float64Array(slots).fill(EMPTY);
    const mergedByRank = new Int32Array(count);
    const mask = slots - 1;
    for (let rank = 0; rank < count; rank++) {
      const left = merges[rank * 3]!;
      const right = merges[rank * 3 + 1]!;
      const key = left * MAX_TOKEN_IDS + right;
      let slot = pairHash(left, right) & mask;
      while (table[slot] !== EMPTY && Math.floor(table[slot]! / MAX_MERGES) !== key) slot = (slot + 1) & mask;
      // A pair listed twice keeps its later rank, as Hugging Face's loader (a map filled in list order) does.
      table[slot] = key * MAX_MERGES + rank;
      mergedByRank[rank] = merges[rank * 3 + 2]!;
    }
    return new BpeMerges(byteIds, table, mergedByRank);
  }

  /** Rank of the pair, or -1. */
  private rank(left: number, right: number): number {
    const table = this.table;
    const key = left * MAX_TOKEN_IDS + right;
    for (let slot = pairHash(left, right) & this.mask; ; slot = (slot + 1) & this.mask) {
      const entry = table[slot]!;
      if (entry === EMPTY) return -1;
      const entryKey = Math.floor(entry / MAX_MERGES);
      if (entryKey === key) return entry - entryKey * MAX_MERGES;
    }
  }

  /**
   * Merges the UTF-8 bytes of text[start, end) (lone surrogates as U+FFFD, as TextEncoder writes them) into `ids`
   * (at least 3 * (end - start) long); returns how many ids.
   */
  mergeText(text: string, start: number, end: number, ids: Int32Array): number {
    let n = 0;
    for (let k = start; k < end; k++) {
      let c = text.charCodeAt(k);
      if (c < 0x80) {
        ids[n++] = c;
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = k + 1 < end ? text.charCodeAt(k + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
          k++;
          ids[n++] = 0xf0 | (cp >> 18);
          ids[n++] = 0x80 | ((cp >> 12) & 0x3f);
          ids[n++] = 0x80 | ((cp >> 6) & 0x3f);
          ids[n++] = 0x80 | (cp & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      if (c < 0x800) {
        ids[n++] = 0xc0 | (c >> 6);
        ids[n++] = 0x80 | (c & 0x3f);
      } else {
        ids[n++] = 0xe0 | (c >> 12);
        ids[n++] = 0x80 | ((c >> 6) & 0x3f);
        ids[n++] = 0x80 | (c & 0x3f);
      }
    }
    // `ids` holds the bytes so far; the merge steps turn them into token ids.
    return n <= SHORT_PIECE ? this.mergeShort(ids, n) : this.mergeLong(ids, n);
  }

  /** Rank (or NO_MERGE) and merged id of each adjacent pair, kept up to date as pairs merge: one lookup per new pair. */
  private readonly pairRanks = new Int32Array(SHORT_PIECE);
  private readonly pairMerged = new Int32Array(SHORT_PIECE);

  private lookUpPair(ids: Int32Array, i: number): void {
    const rank = this.rank(ids[i]!, ids[i + 1]!);
    this.pairRanks[i] = rank < 0 ? NO_MERGE : rank;
    this.pairMerged[i] = rank < 0 ? 0 : this.mergedByRank[rank]!;
  }

  private mergeShort(ids: Int32Array, n: number): number {
    const ranks = this.pairRanks;
    const merged = this.pairMerged;
    for (let i = 0; i + 1 < n; i++) {
      const pair = (ids[i]! << 8) | ids[i + 1]!;
      ranks[i] = this.bytePairRanks[pair]!;
      merged[i] = this.bytePairMerged[pair]!;
    }
    for (let i = 0; i < n; i++) ids[i] = this.byteIds[ids[i]!]!;
    while (n > 1) {
      let best = 0;
      for (let i = 1; i + 1 < n; i++) if (ranks[i]! < ranks[best]!) best = i;
      if (ranks[best] === NO_MERGE) break;
      ids[best] = merged[best]!;
      // Remove symbol best + 1 and the pair that started at it.
      for (let i = best + 1; i + 1 < n; i++) {
        ids[i] = ids[i + 1]!;
        ranks[i] = ranks[i + 1]!;
        merged[i] = merged[i + 1]!;
      }
      n--;
      if (best > 0) this.lookUpPair(ids, best - 1);
      if (best + 1 < n) this.lookUpPair(ids, best);
    }
    return n;
  }

  /** Heap of candidate merges keyed `rank * 2^32 + position`; stale entries are skipped when popped. */
  private mergeLong(ids: Int32Array, n: number): number {
    for (let i = 0; i < n; i++) ids[i] = this.byteIds[ids[i]!]!;
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new MinHeap();
    const POSITION = 2 ** 32;
    const push = (at: number): void => {
      const after = next[at]!;
      if (after < 0) return;
      const rank = this.rank(ids[at]!, ids[after]!);
      if (rank >= 0) heap.push(rank * POSITION + at);
    };
    for (let i = 0; i + 1 < n; i++) push(i);
    while (heap.size > 0) {
      const entry = heap.pop()!;
      const at = entry % POSITION;
      const rank = (entry - at) / POSITION;
      const after = next[at]!;
      // Removed positions have prev = -2; a pair whose tokens changed has another rank (a rank names one pair).
      if (prev[at] === -2 || after < 0 || this.rank(ids[at]!, ids[after]!) !== rank) continue;
      ids[at] = this.mergedByRank[rank]!;
      const afterNext = next[after]!;
      next[at] = afterNext;
      if (afterNext >= 0) prev[afterNext] = at;
      prev[after] = -2;
      if (prev[at]! >= 0) push(prev[at]!);
      push(at);
    }
    // Position 0 is never removed (only right-hand symbols are): walk the list from it, compacting in place.
    let count = 0;
    for (let i = 0; i >= 0; i = next[i]!) ids[count++] = ids[i]!;
    return count;
  }
}
