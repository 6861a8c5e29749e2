/**
 * An open-addressing hash table from text pieces to token ids, looked up by (text, start, end) without slicing:
 * the tokenizer's hot path finds each pre-tokenized piece here with no string allocation. Keys live in one
 * UTF-16 pool; every part is a typed array, so a filled table can be saved and loaded as bytes.
 *
 * A value is one token id (>= 0), or -(offset + 1) into `multi`, where multi[offset] is the count and the ids follow.
 */

export const NOT_FOUND = -0x80000000;

const EMPTY = 0;

export interface PieceTableParts {
  slots: Int32Array;
  hashes: Int32Array;
  keyStarts: Int32Array;
  keys: Uint16Array;
  values: Int32Array;
  multi: Int32Array;
  entryCount: number;
  keyLength: number;
  multiLength: number;
}

function hashRange(text: string, start: number, end: number): number {
  let h = 0x811c9dc5 ^ (end - start);
  for (let k = start; k < end; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

export class PieceTable {
  /** Entry index + 1 per slot (0: empty); length is a power of two, at most half full. */
  private slots: Int32Array;
  private hashes: Int32Array;
  /** Where each entry's key starts in `keys`; entry e's key ends at keyStarts[e + 1]. */
  private keyStarts: Int32Array;
  private keys: Uint16Array;
  private values: Int32Array;
  private multi: Int32Array;
  private entryCount: number;
  private keyLength: number;
  private multiLength: number;

  constructor(parts?: PieceTableParts) {
    if (parts) {
      ({ slots: this.slots, hashes: this.hashes, keyStarts: this.keyStarts, keys: this.keys, values: this.values, multi: this.multi,
        entryCount: this.entryCount, keyLength: this.keyLength, multiLength: this.multiLength } = parts);
    } else {
      this.slots = new Int32Array(1 << 10);
      this.hashes = new Int32Array(256);
      this.keyStarts = new Int32Array(257);
      this.keys = new Uint16Array(1024);
      this.values = new Int32Array(256);
      this.multi = new Int32Array(256);
      this.entryCount = 0;
      this.keyLength = 0;
      this.multiLength = 0;
    }
  }

  get size(): number {
    return this.entryCount;
  }

  /** The parts, trimmed to their used length (for saving). */
  parts(): PieceTableParts {
    return {
      slots: this.slots, hashes: this.hashes.subarray(0, this.entryCount), keyStarts: this.keyStarts.subarray(0, this.entryCount + 1),
      keys: this.keys.subarray(0, this.keyLength), values: this.values.subarray(0, this.entryCount), multi: this.multi.subarray(0, this.multiLength),
      entryCount: this.entryCount, keyLength: this.keyLength, multiLength: this.multiLength,
    };
  }

  /** The value of text[start, end), or NOT_FOUND. */
  find(text: string, start: number, end: number): number {
    const length = end - start;
    const hash = hashRange(text, start, end);
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]!;
      if (entry === EMPTY) return NOT_FOUND;
      const e = entry - 1;
      if (this.hashes[e] !== hash) continue;
      const keyStart = this.keyStarts[e]!;
      if (this.keyStarts[e + 1]! - keyStart !== length) continue;
      let k = 0;
      while (k < length && this.keys[keyStart + k] === text.charCodeAt(start + k)) k++;
      if (k === length) return this.values[e]!;
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

  /** Adds text[start, end) (not yet present) with these ids; returns its value. */
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
    const e = this.entryCount;
    this.hashes = ensure(this.hashes, e + 1);
    this.values = ensure(this.values, e + 1);
    this.keyStarts = ensure(this.keyStarts, e + 2);
    this.keys = ensure(this.keys, this.keyLength + length);
    for (let k = 0; k < length; k++) this.keys[this.keyLength + k] = text.charCodeAt(start + k);
    const hash = hashRange(text, start, end);
    this.hashes[e] = hash;
    this.values[e] = value;
    this.keyStarts[e] = this.keyLength;
    this.keyLength += length;
    this.keyStarts[e + 1] = this.keyLength;
    this.entryCount = e + 1;
    if (this.entryCount * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(e, hash);
    return value;
  }

  /** Drops every entry after the first `entryCount` (and their multi-id storage from `multiLength` on). */
  truncate(entryCount: number, multiLength: number): void {
    if (entryCount >= this.entryCount) return;
    this.entryCount = entryCount;
    this.keyLength = this.keyStarts[entryCount]!;
    this.multiLength = multiLength;
    this.rehash(this.slots.length);
  }

  get multiUsed(): number {
    return this.multiLength;
  }

  private place(e: number, hash: number): void {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    while (this.slots[slot] !== EMPTY) slot = (slot + 1) & mask;
    this.slots[slot] = e + 1;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    for (let e = 0; e < this.entryCount; e++) this.place(e, this.hashes[e]!);
  }
}

/** `array`, or a copy at least twice as long when it is shorter than `length`. */
function ensure<T extends Int32Array | Uint16Array>(array: T, length: number): T {
  if (array.length >= length) return array;
  const grown = new (array.constructor as new (n: number) => T)(Math.max(length, array.length * 2));
  grown.set(array);
  return grown;
}
