import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SSE_LINE_BYTES, SseDecoder, type SseEvent } from '../../engine/backends/remote/sse';
import { UserError } from '../../engine/errors';

function decodeInPieces(bytes: Uint8Array, cuts: number[]): { events: SseEvent[]; decoder: SseDecoder } {
  const decoder = new SseDecoder();
  const events: SseEvent[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...decoder.push(bytes.subarray(start, cut)));
    start = cut;
  }
  return { events, decoder };
}

const stream = 'data: {"content":"naïve 日本 🎉"}\n\n: ping\n\ndata: line one\ndata: line two\n\ndata: [DONE]\n\n';

test('every split point of a stream gives the same events (UTF-8 characters cut across chunks are rejoined)', () => {
  const bytes = new TextEncoder().encode(stream);
  const whole = decodeInPieces(bytes, []).events;
  assert.deepEqual(whole, [
    { kind: 'data', data: '{"content":"naïve 日本 🎉"}' },
    { kind: 'data', data: 'line one\nline two' },
    { kind: 'data', data: '[DONE]' },
  ]);
  for (let cut = 1; cut < bytes.length; cut++) {
    const { events, decoder } = decodeInPieces(bytes, [cut]);
    assert.deepEqual(events, whole, `cut at byte ${cut}`);
    assert.equal(decoder.invalidUtf8Lines, 0);
  }
  // One byte at a time.
  const single = decodeInPieces(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1));
  assert.deepEqual(single.events, whole);
});

test('CRLF and lone CR line endings, even with CR and LF in different chunks', () => {
  const crlf = new TextEncoder().encode('data: a\r\n\r\ndata: b\r\rdata: c\n\n');
  const expected = [{ kind: 'data', data: 'a' }, { kind: 'data', data: 'b' }, { kind: 'data', data: 'c' }];
  for (let cut = 1; cut < crlf.length; cut++) assert.deepEqual(decodeInPieces(crlf, [cut]).events, expected, `cut at ${cut}`);
});

test('bytes that are not UTF-8 are replaced and counted, not fatal', () => {
  const bytes = new Uint8Array([...new TextEncoder().encode('data: caf'), 0xff, ...new TextEncoder().encode('\n\ndata: ok\n\n')]);
  const { events, decoder } = decodeInPieces(bytes, [10]);
  assert.deepEqual(events, [{ kind: 'data', data: 'caf\uFFFD' }, { kind: 'data', data: 'ok' }]);
  assert.equal(decoder.invalidUtf8Lines, 1);
});

test('llama.cpp error lines come out as error events; other fields and comments are ignored', () => {
  const bytes = new TextEncoder().encode('event: x\nid: 7\nretry: 10\n:comment\nerror: {"code":500}\n\n');
  assert.deepEqual(decodeInPieces(bytes, []).events, [{ kind: 'error', data: '{"code":500}' }]);
});

test('an event is dispatched only at its closing blank line', () => {
  const decoder = new SseDecoder();
  assert.deepEqual(decoder.push(new TextEncoder().encode('data: {"a":1}\n')), []);
  assert.deepEqual(decoder.push(new TextEncoder().encode('\n')), [{ kind: 'data', data: '{"a":1}' }]);
});

test('at the end of the body, a last event without its blank line (or line break) is dispatched', () => {
  const decoder = new SseDecoder();
  assert.deepEqual(decoder.push(new TextEncoder().encode('data: {"a":1}\n\ndata: {"b":2}\n')), [{ kind: 'data', data: '{"a":1}' }]);
  assert.deepEqual(decoder.end(), [{ kind: 'data', data: '{"b":2}' }]);
  const unterminated = new SseDecoder();
  assert.deepEqual(unterminated.push(new TextEncoder().encode('data: [DONE]')), []);
  assert.deepEqual(unterminated.end(), [{ kind: 'data', data: '[DONE]' }]);
  // Nothing pending: nothing more.
  const complete = new SseDecoder();
  complete.push(new TextEncoder().encode('data: x\n\n'));
  assert.deepEqual(complete.end(), []);
});

test('a line that never ends is refused past its limit; a long line split over many chunks comes out whole', () => {
  const decoder = new SseDecoder();
  const chunk = new Uint8Array(64 * 1024).fill(0x61); // 'a', no line break
  let refused: unknown;
  try {
    for (let i = 0; i <= MAX_SSE_LINE_BYTES / chunk.length; i++) decoder.push(chunk);
  } catch (error) {
    refused = error;
  }
  assert.ok(refused instanceof UserError, 'over the limit: a UserError');
  assert.match(refused.message, /without a line break/);
  // a long data line split over many chunks still comes out whole
  const long = new SseDecoder();
  const text = 'x'.repeat(300_000);
  const bytes = new TextEncoder().encode(`data: ${text}\n\n`);
  const events: SseEvent[] = [];
  for (let i = 0; i < bytes.length; i += 1000) events.push(...long.push(bytes.subarray(i, i + 1000)));
  assert.deepEqual(events, [{ kind: 'data', data: text }]);
});
