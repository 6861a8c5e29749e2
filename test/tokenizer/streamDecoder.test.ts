import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTokenizer } from '../../engine/tokenizer/index';
import { StreamDecoder } from '../../engine/tokenizer/streamDecoder';

const tokenizer = loadTokenizer();

test('an emoji split over two tokens comes out whole, once complete', () => {
  // 'a😀b': 😀 is F0 9F 98 80, as the byte tokens 76460 (F0 9F 98) and 222 (80).
  assert.deepEqual(tokenizer.encode('a😀b'), [64, 76460, 222, 65]);
  const decoder = new StreamDecoder(tokenizer);
  assert.deepEqual([64, 76460, 222, 65].map((id) => decoder.push(id)), ['a', '', '😀', 'b']);
  assert.equal(decoder.flush(), '');
});

test('CJK characters split over tokens; pieces never hold U+FFFD and join to the text', () => {
  // ' 鑫' is 18630 239 104 and ' 龘' is 118047 246: both cut inside the character.
  const text = '中文字符测试 鑫 龘, x 😀🎉 y 𝔘𝔫𝔦 ñ';
  const ids = tokenizer.encode(text);
  const decoder = new StreamDecoder(tokenizer);
  const pieces = ids.map((id) => decoder.push(id));
  assert.deepEqual(ids.slice(3, 8), [18630, 239, 104, 118047, 246]);
  assert.deepEqual(pieces.slice(3, 8), ['', '', ' 鑫', '', ' 龘']);
  assert.ok(pieces.every((piece) => !piece.includes('\uFFFD')));
  assert.equal(pieces.join('') + decoder.flush(), text);
});

test('pushAll equals decode for plain text and special tokens', () => {
  const decoder = new StreamDecoder(tokenizer);
  const ids = tokenizer.encodeWithSpecialTokens('<|start_header_id|>assistant<|end_header_id|>\n\nline one\r\n\tline two<|eot_id|>');
  assert.equal(decoder.pushAll(ids) + decoder.flush(), tokenizer.decode(ids));
});

test('an unfinished sequence at the end is flushed as U+FFFD, and the decoder starts afresh', () => {
  const decoder = new StreamDecoder(tokenizer);
  assert.equal(decoder.push(64), 'a');
  assert.equal(decoder.push(76460), '');
  assert.equal(decoder.flush(), '\uFFFD');
  assert.equal(decoder.push(65), 'b');
});
