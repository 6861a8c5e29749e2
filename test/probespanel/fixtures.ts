/** Real probe events and results for the panel tests: a tiny suite run in-process on the scripted backends. */
import type { Backend } from '../../engine/backends/types';
import { TemplatePromptCounter } from '../../engine/probes/promptCounter';
import { runProbes } from '../../engine/probes/runner';
import type { ProbeEvent, ProbeRunResult, ProbeTaskName } from '../../engine/probes/types';
import { ChatTemplate } from '../../engine/tokenizer/chatTemplate';
import { loadTokenizer } from '../../engine/tokenizer/index';
import { makePlan } from '../../extension/probes/runConfig';
import type { RunPlan } from '../../webview/probes/protocol';

export interface RecordedRun {
  plan: RunPlan;
  events: ProbeEvent[];
  result: ProbeRunResult;
}

export async function recordRun(backend: Backend, tasks: ProbeTaskName[], lengths: number[], samples = 1): Promise<RecordedRun> {
  const plan = makePlan(tasks, lengths, samples, 'panel-test');
  const counter = new TemplatePromptCounter(loadTokenizer(), ChatTemplate.forTokenizer());
  const events: ProbeEvent[] = [];
  const result = await runProbes({ ...plan, backend, counter, onEvent: (event) => events.push(event) });
  return { plan, events, result };
}

/** Checks that every element opened in `markup` is closed in order (self-closing tags aside); returns the tag names seen. */
export function checkBalanced(markup: string): string[] {
  const stack: string[] = [];
  const seen: string[] = [];
  for (const match of markup.matchAll(/<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*(\/?)>/g)) {
    const [, closing, name, , selfClosing] = match;
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}> at ${match.index}`);
    } else {
      seen.push(name!);
      if (!selfClosing) stack.push(name!);
    }
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(', ')}`);
  // Anything that looks like a tag but did not match the pattern (a stray '<') is a bug too.
  const tags = (markup.match(/</g) ?? []).length;
  const matched = [...markup.matchAll(/<\/?[a-zA-Z][\w-]*(?:\s+[\w:-]+(?:="[^"]*")?)*\s*\/?>/g)].length;
  if (tags !== matched) throw new Error(`${tags - matched} '<' outside a well-formed tag`);
  return seen;
}
