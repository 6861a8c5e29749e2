/**
 * A health check of a configured server, step by step, each step saying exactly what is wrong: reaching it
 * (DNS, refused, TLS), the API key (401), the path (404), the model, its context length against the packed
 * repository, exact token counts, and a one-token answer (which also measures time to first token).
 */
import { CancelledError, UserError, errorMessage } from '../../errors';
import { RemoteBackend, type RemoteBackendOptions } from './remoteBackend';
import type { ServedModel } from './wire';
import type { SettingNames } from '../../settingNames';

export interface HealthStep {
  name: string;
  status: 'ok' | 'warning' | 'error';
  message: string;
  hint?: string;
}

export interface HealthReport {
  server: string;
  ok: boolean;
  steps: HealthStep[];
  /** What /v1/models listed (empty when it could not be read). */
  models: ServedModel[];
}

export interface HealthCheckOptions {
  /** Tokens of the packed repository, to compare with the server's context length. */
  packedTokens?: number;
  /** Answer tokens to leave room for (default 1024). */
  answerTokens?: number;
  /** Send a one-token request to check generation end to end (default true). */
  tryGeneration?: boolean;
}

export async function checkServer(options: RemoteBackendOptions, check: HealthCheckOptions = {}, signal?: AbortSignal): Promise<HealthReport> {
  const steps: HealthStep[] = [];
  const report: HealthReport = { server: options.url, ok: false, steps, models: [] };
  const failed = (name: string, error: unknown): HealthReport => {
    if (error instanceof CancelledError) throw error;
    steps.push({ name, status: 'error', message: error instanceof UserError ? error.message : errorMessage(error), hint: error instanceof UserError ? error.hint : undefined });
    return report;
  };

  let backend: RemoteBackend;
  try {
    backend = new RemoteBackend(options);
  } catch (error) {
    return failed('Server URL', error);
  }
  report.server = backend.serverLabel;
  try {
    return await checkWith(backend, report, failed, check, options.settingNames, signal);
  } finally {
    await backend.dispose();
  }
}

async function checkWith(backend: RemoteBackend, report: HealthReport, failed: (name: string, error: unknown) => HealthReport,
  check: HealthCheckOptions, names: SettingNames, signal: AbortSignal | undefined): Promise<HealthReport> {
  const steps = report.steps;
  try {
    report.models = await backend.listModels(signal);
    steps.push({ name: 'Connect', status: 'ok', message: `${backend.serverLabel} answered /v1/models with ${report.models.length} model${report.models.length === 1 ? '' : 's'}.` });
  } catch (error) {
    return failed('Connect', error);
  }

  let contextLength: number | undefined;
  try {
    const info = await backend.info(signal, report.models);
    contextLength = info.contextLength;
    steps.push({ name: 'Model', status: 'ok', message: `${info.model} (${info.detail}).` });
  } catch (error) {
    return failed('Model', error);
  }

  const answerTokens = check.answerTokens ?? 1024;
  if (contextLength === undefined) {
    steps.push({ name: 'Context length', status: 'warning', message: 'The server does not report its context length, so oversized prompts are caught only by the server.' });
  } else if (check.packedTokens !== undefined && check.packedTokens + answerTokens > contextLength) {
    steps.push({
      name: 'Context length', status: 'error',
      message: `The packed repository is ${check.packedTokens.toLocaleString('en-US')} tokens, but the server holds ${contextLength.toLocaleString('en-US')} tokens (with ${answerTokens.toLocaleString('en-US')} kept for the answer).`,
      hint: `Set ${names.packBudget} to at most ${Math.max(0, contextLength - answerTokens).toLocaleString('en-US')}, exclude folders (${names.packExclude}), or restart the server with a longer context (vLLM --max-model-len, llama.cpp -c).`,
    });
  } else {
    const fits = check.packedTokens === undefined ? '' : `; the packed repository (${check.packedTokens.toLocaleString('en-US')} tokens) fits`;
    steps.push({ name: 'Context length', status: 'ok', message: `${contextLength.toLocaleString('en-US')} tokens${fits}.` });
  }

  const probe = { messages: [{ role: 'user' as const, content: 'Reply with the word OK.' }] };
  try {
    const count = await backend.countPromptTokens(probe, signal);
    steps.push(count.exact
      ? { name: 'Token counts', status: 'ok', message: 'Exact, from the server\'s tokenize endpoint.' }
      : { name: 'Token counts', status: 'warning', message: count.note ?? 'Counted locally.' });
  } catch (error) {
    failed('Token counts', error);
  }

  if (check.tryGeneration !== false) {
    try {
      const result = await backend.generate({ ...probe, sampling: { maxTokens: 1 } }, () => {}, signal);
      if (result.finishReason === 'cancelled') throw new CancelledError('health check');
      const ttft = result.timeToFirstTokenMs === undefined ? '' : `, first token after ${(result.timeToFirstTokenMs / 1000).toFixed(2)} s`;
      steps.push({ name: 'Answer', status: result.warnings.length ? 'warning' : 'ok', message: `A one-token answer came back${ttft}.${result.warnings.length ? ` ${result.warnings.join(' ')}` : ''}` });
    } catch (error) {
      failed('Answer', error);
    }
  }
  report.ok = steps.every((step) => step.status !== 'error');
  return report;
}

/** The report as lines for a terminal or an output channel (no secrets: reports never contain headers). */
export function formatHealthReport(report: HealthReport): string[] {
  const mark = { ok: '✓', warning: '!', error: '✗' } as const;
  const lines = [`Server ${report.server}: ${report.ok ? 'ready' : 'not ready'}`];
  for (const step of report.steps) {
    lines.push(`  ${mark[step.status]} ${step.name}: ${step.message}`);
    if (step.hint) lines.push(`      ${step.hint}`);
  }
  return lines;
}
