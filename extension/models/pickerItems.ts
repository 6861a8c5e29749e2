/**
 * The entries of "ProLong: Select Model", built without `vscode` (testable): converted models, HF-cache checkpoints
 * not yet converted, the remote server's models, and "Download a model…" with the curated list. Each says what it
 * needs and how much context fits this machine.
 */
import { curatedModels } from '../../engine/models/curated';
import type { CacheModel, LocalModel } from '../../engine/models/library';
import { describeFit, formatBytes, formatContext, modelFit, type ModelFit } from '../../engine/models/modelFit';
import type { AvailableMemory } from '../../engine/runtime/memoryBudget';

export type ModelChoice =
  | { kind: 'converted'; dir: string; name: string }
  | { kind: 'checkpoint'; repo: string; commit: string; dtype: ModelFit['suggestedDtype'] }
  | { kind: 'server'; id: string }
  | { kind: 'checkServer' }
  | { kind: 'download' }
  /** The bundled demo model: no model path, the local engine. */
  | { kind: 'demo' };

export interface PickerEntry { label: string; description?: string; detail?: string; separator?: boolean; choice?: ModelChoice; picked?: boolean }

export function modelPickerEntries(input: {
  converted: LocalModel[]; cached: (CacheModel & { fit: ModelFit })[]; serverModels: { id: string; contextLength?: number }[];
  serverLabel?: string; currentModelDir?: string; currentServerModel?: string; available: AvailableMemory;
  /** Why the configured server's models could not be listed (unreachable, refused, 401...). */
  serverProblem?: string;
  /** The bundled demo model, always there; current when the local engine runs it. */
  demo?: { name: string; bytes: number; contextLength: number; current: boolean };
}): PickerEntry[] {
  const entries: PickerEntry[] = [];
  if (input.converted.length > 0) entries.push({ label: 'Converted models', separator: true });
  for (const m of input.converted) {
    const current = input.currentModelDir === m.dir;
    entries.push({
      label: `${current ? '$(check) ' : ''}${m.name}`,
      description: `${m.sidecar.onnx.dtype} · ${formatBytes(m.bytes)} · context ${formatContext(m.sidecar.model.contextLength)} (trained ${formatContext(m.sidecar.model.maxPositionEmbeddings)})`,
      detail: m.dir, choice: { kind: 'converted', dir: m.dir, name: m.name }, picked: current,
    });
  }
  if (input.cached.length > 0) entries.push({ label: 'In the Hugging Face cache, not converted yet', separator: true });
  for (const c of input.cached) {
    entries.push({
      label: c.repo, description: describeFit(c.fit),
      detail: `convert to ${c.fit.suggestedDtype} (no download) · ${formatBytes(c.bytes)} on disk · ${c.refs.length ? c.refs.join(', ') : c.commit.slice(0, 10)}`,
      choice: { kind: 'checkpoint', repo: c.repo, commit: c.commit, dtype: c.fit.suggestedDtype },
    });
  }
  if (input.serverModels.length > 0 || input.serverProblem) entries.push({ label: `On the server ${input.serverLabel ?? ''}`.trim(), separator: true });
  if (input.serverProblem) {
    entries.push({ label: '$(warning) The server\'s models could not be listed', description: 'Check Server says what to fix', detail: input.serverProblem, choice: { kind: 'checkServer' } });
  }
  for (const s of input.serverModels) {
    const current = input.currentServerModel === s.id;
    entries.push({ label: `${current ? '$(check) ' : ''}${s.id}`, description: s.contextLength ? `context ${formatContext(s.contextLength)}` : undefined, choice: { kind: 'server', id: s.id }, picked: current });
  }
  if (input.demo) {
    entries.push({ label: 'Bundled', separator: true });
    entries.push({
      label: `${input.demo.current ? '$(check) ' : ''}${input.demo.name}`,
      description: `demo model · int4 · ${formatBytes(input.demo.bytes)} · context ${formatContext(input.demo.contextLength)}`,
      detail: 'finds needles in long text; does not reason about code (no download)', choice: { kind: 'demo' }, picked: input.demo.current,
    });
  }
  entries.push({ label: 'Hub', separator: true });
  entries.push({ label: '$(cloud-download) Download a model…', description: 'from the Hugging Face Hub, then convert', choice: { kind: 'download' } });
  return entries;
}

export interface DownloadEntry { label: string; description: string; detail: string; repo: string; fit?: ModelFit }

/** The curated list with each model's fit on this machine (from its published config, before any download). */
export function curatedEntries(available: AvailableMemory): DownloadEntry[] {
  return curatedModels.map((m) => {
    const fit = modelFit(m.config, m.repo, available);
    return { label: m.repo, description: describeFit(fit), detail: `${m.note} · fp16 ${formatBytes(fit.weightBytes.fp16)}, int4 ${formatBytes(fit.weightBytes.int4)}`, repo: m.repo, fit };
  });
}
