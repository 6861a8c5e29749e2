import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXTENSION_SETTINGS } from '../../engine/settingNames';
import { UserError } from '../../engine/errors';
import { chooseExecutionProvider, linuxHardwareGpu } from '../../engine/runtime/executionProvider';

const works = async () => undefined;
const fails = async () => 'Failed to get a WebGPU adapter: No supported adapters';

test('auto: WebGPU with a GPU and an adapter, the CPU otherwise, each with its reason', async () => {
  assert.deepEqual(await chooseExecutionProvider('auto', works, () => true), { name: 'webgpu', reason: 'WebGPU: a GPU adapter was found' });
  const noAdapter = await chooseExecutionProvider('auto', fails, () => true);
  assert.equal(noAdapter.name, 'cpu');
  assert.match(noAdapter.reason, /no usable WebGPU adapter \(Failed to get a WebGPU adapter/);
  // Linux without a GPU device: a WebGPU adapter would be lavapipe, so the CPU is chosen without probing.
  let probed = false;
  const software = await chooseExecutionProvider('auto', async () => { probed = true; return undefined; }, () => false);
  assert.equal(software.name, 'cpu');
  assert.match(software.reason, /software rendering/);
  assert.equal(probed, false);
  assert.equal((await chooseExecutionProvider('auto', works, () => undefined)).name, 'webgpu', 'macOS/Windows: the probe decides');
});

test('forced providers: the CPU always; WebGPU even as software, and a clear error without an adapter', async () => {
  assert.equal((await chooseExecutionProvider('cpu', works, () => true)).name, 'cpu');
  assert.equal((await chooseExecutionProvider('webgpu', works, () => false)).name, 'webgpu');
  await assert.rejects(chooseExecutionProvider('webgpu', fails, () => true),
    (error: unknown) => error instanceof UserError && /WebGPU is not available/.test(error.message) && /^Set --ep to "auto" or "cpu"/.test(error.hint ?? ''));
  await assert.rejects(chooseExecutionProvider('webgpu', fails, () => true, EXTENSION_SETTINGS),
    (error: unknown) => error instanceof UserError && /^Set the setting prolong\.engine\.executionProvider to "auto" or "cpu"/.test(error.hint ?? ''));
  assert.equal((await chooseExecutionProvider('cpu', works, () => true, EXTENSION_SETTINGS)).reason, 'CPU: chosen by the setting prolong.engine.executionProvider');
  assert.equal((await chooseExecutionProvider('cpu', works, () => true)).reason, 'CPU: chosen by --ep');
});

test('GPU device nodes on Linux', () => {
  const listing = (entries: Record<string, string[]>) => (dir: string) => entries[dir] ?? [];
  assert.equal(linuxHardwareGpu('linux', listing({ '/dev/dri': ['card0', 'renderD128'] })), true);
  assert.equal(linuxHardwareGpu('linux', listing({ '/dev': ['null', 'nvidia0', 'nvidiactl'] })), true);
  assert.equal(linuxHardwareGpu('linux', listing({ '/dev': ['null', 'nvidiactl'], '/dev/dri': ['card0'] })), false);
  assert.equal(linuxHardwareGpu('darwin', listing({})), undefined);
});
