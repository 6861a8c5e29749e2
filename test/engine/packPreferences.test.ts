// Whether a local model's packs get the definitions index: what its sidecar says, unless the user said otherwise.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelWantsDefinitionsIndex, resolveDefinitionsIndex } from '../../engine/models/packPreferences';
import { demoModelDir } from '../../engine/models/demoModel';
import { sidecarFileName } from '../../kernels/sidecar';

const scratch = mkdtempSync(join(tmpdir(), 'prolong-pack-preferences-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A model folder whose sidecar is the demo model's with `pack` as given (undefined: no `pack` key). */
function modelWith(name: string, pack: unknown): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  const sidecar = JSON.parse(readFileSync(join(demoModelDir(), sidecarFileName), 'utf8')) as Record<string, unknown>;
  if (pack === undefined) delete sidecar.pack; else sidecar.pack = pack;
  writeFileSync(join(dir, sidecarFileName), JSON.stringify(sidecar));
  return dir;
}

test('a model converted --definitions-index wants the index; one without the key, or with it false, does not', () => {
  assert.equal(modelWantsDefinitionsIndex(modelWith('trained', { definitionsIndex: true })), true);
  assert.equal(modelWantsDefinitionsIndex(modelWith('plain', undefined)), false);
  assert.equal(modelWantsDefinitionsIndex(modelWith('off', { definitionsIndex: false })), false);
  assert.equal(modelWantsDefinitionsIndex(modelWith('odd', { definitionsIndex: 'yes' })), false, 'only true turns it on');
});

test('a GGUF file goes by the sidecar beside it that names it; a missing folder and an unreadable sidecar want nothing', () => {
  const gguf = join(scratch, 'model.gguf');
  writeFileSync(gguf, 'GGUF');
  assert.equal(modelWantsDefinitionsIndex(gguf), false, 'no sidecar beside it');
  const converted = modelWith('with-gguf', { definitionsIndex: true });
  const sidecar = JSON.parse(readFileSync(join(converted, sidecarFileName), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(converted, sidecarFileName), JSON.stringify({ ...sidecar, gguf: { file: 'model.gguf', type: 'q4_0' } }));
  writeFileSync(join(converted, 'model.gguf'), 'GGUF');
  writeFileSync(join(converted, 'other.gguf'), 'GGUF');
  assert.equal(modelWantsDefinitionsIndex(join(converted, 'model.gguf')), true, 'the sidecar names it');
  assert.equal(modelWantsDefinitionsIndex(join(converted, 'other.gguf')), false, 'another file in the folder');
  assert.equal(modelWantsDefinitionsIndex(join(scratch, 'missing')), false);
  const broken = join(scratch, 'broken');
  mkdirSync(broken);
  writeFileSync(join(broken, sidecarFileName), '{ not json');
  assert.equal(modelWantsDefinitionsIndex(broken), false);
});

test('no model folder means the bundled demo model, which (run J) was trained without the index', () => {
  assert.equal(modelWantsDefinitionsIndex(undefined), false);
  assert.equal(modelWantsDefinitionsIndex('  '), false);
});

test('the user\'s setting or flag wins both ways; a server\'s model gets the index only when asked', () => {
  const trained = modelWith('trained-2', { definitionsIndex: true });
  const plain = modelWith('plain-2', undefined);
  assert.equal(resolveDefinitionsIndex(undefined, trained, true), true);
  assert.equal(resolveDefinitionsIndex(false, trained, true), false);
  assert.equal(resolveDefinitionsIndex(true, plain, true), true);
  assert.equal(resolveDefinitionsIndex(undefined, plain, true), false);
  assert.equal(resolveDefinitionsIndex(undefined, trained, false), false, 'remote: the local model folder is not the one answering');
  assert.equal(resolveDefinitionsIndex(true, undefined, false), true);
});
