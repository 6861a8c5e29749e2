import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAskToExtension } from '../../webview/ask/protocol';
import { isProbesToExtension } from '../../webview/probes/protocol';

test('messages from the Ask webview are checked field by field', () => {
  for (const good of [{ type: 'ready' }, { type: 'ask', question: 'Where is X?' }, { type: 'openFile', path: 'a.ts', line: 3, endLine: 9 },
    { type: 'openFile', path: 'a.ts' }, { type: 'action', action: 'configureServer' }, { type: 'retry', turnId: 2 },
    { type: 'code', action: 'copy', code: 'x' }, { type: 'code', action: 'insert', code: '' }, { type: 'askWithLeftOut', turnId: 3 },
    { type: 'action', action: 'switchModel' }, { type: 'action', action: 'openFolder' }, { type: 'action', action: 'chooseLocalModel' }]) {
    assert.equal(isAskToExtension(good), true, JSON.stringify(good));
  }
  for (const bad of [null, 'ask', {}, { type: 'ask' }, { type: 'ask', question: 42 }, { type: 'openFile', path: 'a.ts', line: '3' },
    { type: 'openFile', path: 'a.ts', line: -1 }, { type: 'action', action: 'rm -rf' }, { type: 'retry', turnId: 1.5 }, { type: 'eval', code: 'x' },
    { type: 'code', action: 'run', code: 'x' }, { type: 'code', action: 'copy' }, { type: 'askWithLeftOut', turnId: 'a' }]) {
    assert.equal(isAskToExtension(bad), false, JSON.stringify(bad));
  }
});

test('messages from the Probes webview are checked field by field', () => {
  assert.equal(isProbesToExtension({ type: 'save' }), true);
  assert.equal(isProbesToExtension({ type: 'setThreshold', threshold: 80 }), true);
  assert.equal(isProbesToExtension({ type: 'setThreshold', threshold: '80' }), false);
  assert.equal(isProbesToExtension({ type: 'setThreshold', threshold: Number.NaN }), false);
  assert.equal(isProbesToExtension({ type: 'unknown' }), false);
  assert.equal(isProbesToExtension(undefined), false);
});
