/**
 * Byte-pair merging by merge rank, as Hugging Face's BPE model does it: repeatedly merge the adjacent pair with
 * the lowest rank, leftmost first on ties, until no adjacent pair has a merge.
 */

/** Pieces up to this many bytes merge by rescanning (fast for short words); longer ones use a heap (n log n). */
const SHORT_PIECE = 48;

export class BpeMerges {
  /** `left * idSpace + right` -> rank (index in the merges list). */
  private readonly rankByPair = new Map<number, number>();
  /** Merged token id by rank. */
  private readonly mergedIdByRank: Int32Array;

  constructor(
    /** Id of the single-byte token for each byte value. */
    private readonly byteIds: Int32Array,
    /** Pairs of token ids in rank order, and the id each merges into. */
    merges: readonly (readonly [left: number, right: number, merged: number])[],
    /** Larger than every id, so `left * idSpace + right` is unique. */
    private readonly idSpace: number,
  ) {
    this.mergedIdByRank = new Int32Array(merges.length);
    merges.forEach(([left, right, merged], rank) => {
      const key = left * idSpace + right;
      // A pair listed twice keeps its later rank, as Hugging Face's loader (a map filled in list order) does.
      this.rankByPair.set(key, rank);
      this.mergedIdByRank[rank] = merged;
    });
  }

  private rank(left: number, right: number): number {
    return this.rankByPair.get(left * this.idSpace + right) ?? -1;
  }

  /** Token ids of `bytes` (one pre-tokenized piece). */
  merge(bytes: Uint8Array): number[] {
    const ids = Array.from(bytes, (byte) => this.byteIds[byte]!);
    return ids.length <= SHORT_PIECE ? this.mergeShort(ids) : this.mergeLong(ids);
  }

  private mergeShort(ids: number[]): number[] {
    for (;;) {
      let bestRank = -1;
      let bestAt = -1;
      for (let i = 0; i + 1 < ids.length; i++) {
        const rank = this.rank(ids[i]!, ids[i + 1]!);
        if (rank >= 0 && (bestRank < 0 || rank < bestRank)) {
          bestRank = rank;
          bestAt = i;
        }
      }
      if (bestRank < 0) return ids;
      ids[bestAt] = this.mergedIdByRank[bestRank]!;
      ids.splice(bestAt + 1, 1);
    }
  }

  /** Heap of candidate merges keyed `rank * 2^32 + position`; stale entries are skipped when popped. */
  private mergeLong(ids: number[]): number[] {
    const n = ids.length;
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
      const entry = heap.pop();
      const at = entry % POSITION;
      const rank = (entry - at) / POSITION;
      const after = next[at]!;
      // Removed positions have prev = -2; a pair whose tokens changed has another rank (a rank names one pair).
      if (prev[at] === -2 || after < 0 || this.rank(ids[at]!, ids[after]!) !== rank) continue;
      ids[at] = this.mergedIdByRank[rank]!;
      const afterNext = next[after]!;
      next[at] = afterNext;
      if (afterNext >= 0) prev[afterNext] = at;
      prev[after] = -2;
      if (prev[at]! >= 0) push(prev[at]!);
      push(at);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]!) out.push(ids[i]!);
    return out;
  }
}

/** A binary min-heap of numbers. */
class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const items = this.items;
    let i = items.length;
    items.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && items[right]! < items[left]! ? right : left;
        if (items[child]! >= last) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
