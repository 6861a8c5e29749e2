/**
 * GPT-2's byte-level alphabet: every byte is written as one printable character in vocab and merges
 * (printable Latin-1 bytes as themselves, the rest shifted to U+0100 and up).
 */

function buildByteToChar(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const chars: string[] = new Array(256);
  for (const b of printable) chars[b] = String.fromCharCode(b);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    if (chars[b] === undefined) chars[b] = String.fromCharCode(256 + shifted++);
  }
  return chars;
}

/** The character that stands for each byte. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

const CHAR_TO_BYTE = new Map<number, number>(BYTE_TO_CHAR.map((char, byte) => [char.charCodeAt(0), byte]));

/** Bytes of a vocabulary token, or undefined when it has a character outside the byte-level alphabet. */
export function tokenBytes(token: string): Uint8Array | undefined {
  const bytes = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const byte = CHAR_TO_BYTE.get(token.charCodeAt(i));
    if (byte === undefined) return undefined;
    bytes[i] = byte;
  }
  return bytes;
}

/** The byte-level spelling of `bytes[start, end)`. */
export function byteLevelString(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let text = '';
  for (let i = start; i < end; i++) text += BYTE_TO_CHAR[bytes[i]!];
  return text;
}
