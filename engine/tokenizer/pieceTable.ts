/**
 * An open-addressing hash table from text pieces to token ids, looked up by (text, start, end) without slicing:
 * the tokenizer's hot path finds each pre-tokenized piece here with no string allocation. A slot holds everything a
 * lookup needs but the key's characters, (hash, key start, key length, value), so a probe touches one cache line
 * and the comparison one more. Keys live in one UTF-16 pool. All parts are typed arrays, so a filled table can be
 * saved and loaded as bytes.
 *
 * A value is one token id (>= 0), or -(offset + 1) into `multi`, where multi[offset] is the count and the ids follow.
 */

export const NOT_FOUND = -0x80000000;

/** Int32s per slot: hash, key start, key length (0: empty slot; keys are never empty), value. */
const SLOT = 4;

export interface PieceTableParts {
  slots: Int32Array;
  keys: Uint16Array;
  multi: Int32Array;
  entryCount: number;
  keyLength: number;
  multiLength: number;
}

/** FNV-1a over UTF-16 units: the running state; callers may compute it while scanning a piece (see `findHashed`). */
export const HASH_START = 0x811c9dc5 | 0;

export function hashStep(state: number, charCode: number): number {
  return Math.imul(state ^ charCode, 0x01000193);
}

/** The slot hash from a piece's running state and length. */
function finishHash(state: number, length: number): number {
  let h = state ^ length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

function hashRange(text: string, start: number, end: number): number {
  let state = HASH_START;
  for (let k = start; k < end; k++) state = Math.imul(state ^ text.charCodeAt(k), 0x01000193);
  return finishHash(state, end - start);
}

export class PieceTable {
  private slots: Int32Array;
  private mask: number;
  private keys: Uint16Array;
  private multi: Int32Array;
  private entryCount: number;
  private keyLength: number;
  private multiLength: number;

  constructor(parts?: PieceTableParts) {
    if (parts) {
      ({ slots: this.slots, keys: this.keys, multi: this.multi, entryCount: this.entryCount, keyLength: this.keyLength,
        multiLength: this.multiLength } = parts);
    } else {
      this.slots = new Int32Array(1024 * SLOT);
      this.keys = new Uint16Array(1024);
      this.multi = new Int32Array(256);
      this.entryCount = 0;
      this.keyLength = 0;
      this.multiLength = 0;
    }
    this.mask = this.slots.length / SLOT - 1;
  }

  get size(): number {
    return this.entryCount;
  }

  /** The parts, trimmed to their used length (for saving; they share memory with the table). */
  parts(): PieceTableParts {
    return {
      slots: this.slots, keys: this.keys.subarray(0, this.keyLength), multi: this.multi.subarray(0, this.multiLength),
      entryCount: this.entryCount, keyLength: this.keyLength, multiLength: this.multiLength,
    };
  }

  /** The value of text[start, end), or NOT_FOUND. */
  find(text: string, start: number, end: number): number {
    return this.lookUp(text, start, end, hashRange(text, start, end));
  }

  /** `find`, given the running hash state of text[start, end) (HASH_START folded with `hashStep` over its units). */
  findHashed(text: string, start: number, end: number, state: number): number {
    return this.lookUp(text, start, end, finishHash(state, end - start));
  }

  private lookUp(text: string, start: number, end: number, hash: number): number {
    const length = end - start;
    const slots = this.slots;
    const keys = this.keys;
    const mask = this.mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const at = slot * SLOT;
      const slotLength = slots[at + 2]!;
      if (slotLength === 0) return NOT_FOUND;
      if (slots[at] !== hash || slotLength !== length) continue;
      const keyStart = slots[at + 1]!;
      let k = 0;
      while (k < length && keys[keyStart + k] === text.charCodeAt(start + k)) k++;
      if (k === length) return slots[at + 3]!;
    }
  }

  /** Token count of a value. */
  countOf(value: number): number {
    return value >= 0 ? 1 : this.multi[-value - 1]!;
  }

  /** Appends the ids of a value to `out`. */
  pushIds(value: number, out: number[]): void {
    if (value >= 0) {
      out.push(value);
      return;
    }
    const offset = -value - 1;
    const count = this.multi[offset]!;
    for (let k = 1; k <= count; k++) out.push(this.multi[offset + k]!);
  }

  /** Adds text[start, end) (non-empty, not yet present) with these ids; returns its value. */
  add(text: string, start: number, end: number, ids: ArrayLike<number>, idCount = ids.length): number {
    let value: number;
    if (idCount === 1) value = ids[0]!;
    else {
      this.multi = ensure(this.multi, this.multiLength + idCount + 1);
      this.multi[this.multiLength] = idCount;
      for (let k = 0; k < idCount; k++) this.multi[this.multiLength + 1 + k] = ids[k]!;
      value = -(this.multiLength + 1);
      this.multiLength += idCount + 1;
    }
    const length = end - start;
    this.keys = ensure(this.keys, this.keyLength + length);
    for (let k = 0; k < length; k++) this.keys[this.keyLength + k] = text.charCodeAt(start + k);
    if ((this.entryCount + 1) * 2 > this.mask + 1) this.resize((this.mask + 1) * 2);
    this.place(hashRange(text, start, end), this.keyLength, length, value);
    this.keyLength += length;
    this.entryCount++;
    return value;
  }

  /** A copy that can be filled independently (the cache restarts from a copy of the vocabulary-only table). */
  clone(): PieceTable {
    return new PieceTable({
      slots: this.slots.slice(), keys: this.keys.slice(0, this.keyLength), multi: this.multi.slice(0, this.multiLength),
      entryCount: this.entryCount, keyLength: this.keyLength, multiLength: this.multiLength,
    });
  }

  private place(hash: number, keyStart: number, length: number, value: number): void {
    const slots = this.slots;
    let slot = hash & this.mask;
    while (slots[slot * SLOT + 2] !== 0) slot = (slot + 1) & this.mask;
    const at = slot * SLOT;
    slots[at] = hash;
    slots[at + 1] = keyStart;
    slots[at + 2] = length;
    slots[at + 3] = value;
  }

  private resize(slotCount: number): void {
    const old = this.slots;
    this.slots = new Int32Array(slotCount * SLOT);
    this.mask = slotCount - 1;
    for (let at = 0; at < old.length; at += SLOT) {
      if (old[at + 2] !== 0) this.place(old[at]!, old[at + 1]!, old[at + 2]!, old[at + 3]!);
    }
  }
}

/** `array`, or a copy at least twice as long when it is shorter than `length`. */
function ensure<T extends Int32Array | Uint16Array>(array: T, length: number): T {
  if (array.length >= length) return array;
  const grown = new (array.constructor as new (n: number) => T)(Math.max(length, array.length * 2));
  grown.set(array);
  return grown;
}
