/**
 * What the demo model is taught to answer: for a probe instance, its reference strings after the task's answer
 * prefix (the probes score whether those strings appear); for a repository question in the Ask prompt, one plain
 * sentence that names the file (and the returned expression), with the names in backticks as the panel renders them.
 */
import type { ChatMessage } from '../../engine/backends/types';
import type { SeededRandom } from '../../engine/probes/random';
import { niahTemplate } from '../../engine/probes/tasks/niah';
import type { RepositoryFile } from '../../engine/probes/tasks/common';
import type { ProbeInstance } from '../../engine/probes/types';

/** The answer text that follows `instance.assistantPrefix`. */
export function answerText(instance: Pick<ProbeInstance, 'assistantPrefix' | 'answers' | 'task' | 'messages' | 'context'>): string {
  const prefix = instance.assistantPrefix;
  const lead = prefix === '' || /\s$/.test(prefix) ? '' : ' ';
  const answers = instance.task === 'niah_multivalue' ? inDocumentOrder(instance) : instance.answers;
  const body = instance.task === 'needle_heatmap' || instance.task === 'json_kv' || instance.task.startsWith('repo_qa')
    ? answers.join(', ')
    : `${answers.join(', ')}.`;
  return lead + body;
}

/**
 * A multivalue needle's values in the order the haystack holds them. The task lists them in the order it made them
 * and shuffles the needles (its metric takes any order), so as a training target that order could not be learned:
 * each value after the first was a guess among the rest (teacher-forced accuracy 0% in runs H and I).
 */
function inDocumentOrder(instance: Pick<ProbeInstance, 'answers' | 'messages' | 'context'>): string[] {
  const text = instance.messages[instance.context.message]?.content ?? '';
  const at = (answer: string) => { const i = text.indexOf(answer); return i < 0 ? Number.MAX_SAFE_INTEGER : i; };
  return [...instance.answers].sort((a, b) => at(a) - at(b));
}

export interface AskQuestion { question: string; answer: string; /** The file the answer rests on. */ path: string }

/**
 * A question about `files` whose answer is in them: which file defines a symbol defined in exactly one of them, or
 * (for a Python function with a one-line `return`) what the function returns. `definitions` maps a path to the
 * symbols defined only there (repoQa.ts's uniqueDefinitions).
 */
export function askQuestion(files: readonly RepositoryFile[], definitions: Map<string, string[]>, random: SeededRandom): AskQuestion | undefined {
  const withSymbols = files.filter((file) => (definitions.get(file.path)?.length ?? 0) > 0);
  if (withSymbols.length === 0) return undefined;
  const file = random.pick(withSymbols);
  const symbol = random.pick(definitions.get(file.path)!);
  if (random.next() < 0.35) {
    const returned = pythonReturn(file.text, symbol);
    if (returned) {
      return { question: `What does \`${symbol}\` return?`, answer: `It returns \`${returned}\` (in ${file.path}).`, path: file.path };
    }
  }
  const phrasings = [`Which file defines \`${symbol}\`?`, `Where is \`${symbol}\` defined?`, `In which file is \`${symbol}\` defined?`];
  return { question: random.pick(phrasings), answer: whichFileAnswer(file.path), path: file.path };
}

/**
 * The answer to "Which file defines `X`?". It starts with the path after a fixed lead and does not repeat the symbol:
 * copying the symbol from the question first was where run J's answers broke (teacher-forced through the engine, the
 * first miss was in the symbol in 12 of 12 answers on a generated repository), and a garbled symbol derails the path.
 * The path follows a space, as in its file header (`==> src/a.py <==`), so it is the same tokens there and here
 * (after a backtick its first token is another one: `src` for ` src`), and copying it from the header is induction.
 */
export function whichFileAnswer(path: string): string {
  return `It is defined in ${path}.`;
}

/**
 * RULER's single-needle question for the path of `symbol` over `context` (which holds the needles, `needleSentence`
 * with value type "paths"): the user's message and the answer prefix the path follows. Training's needle_path rows and
 * `evalAsk --needle` ask it the same way.
 */
export function pathNeedleQuestion(context: string, symbol: string): { messages: ChatMessage[]; assistantPrefix: string } {
  const { before, after, prefix } = niahTemplate('paths', true, symbol);
  return { messages: [{ role: 'user', content: `${before}${context}${after}` }], assistantPrefix: prefix };
}

/** RULER's question for the path of `symbol` as a follow-up in the same conversation (the needles already given). */
export function pathNeedleFollowUp(symbol: string): { question: string; assistantPrefix: string } {
  const { after, prefix } = niahTemplate('paths', true, symbol);
  return { question: after.trim(), assistantPrefix: prefix };
}

/** The expression of the first `return` directly in a Python function's body, when it fits on one short line. */
export function pythonReturn(text: string, name: string): string | undefined {
  const lines = text.split('\n');
  const at = lines.findIndex((line) => new RegExp(`^\\s*(?:async\\s+)?def\\s+${escapeRegExp(name)}\\s*\\(`).test(line));
  if (at < 0) return undefined;
  const indent = /^\s*/.exec(lines[at]!)![0].length;
  for (let i = at + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const lineIndent = /^\s*/.exec(line)![0].length;
    if (lineIndent <= indent) return undefined;
    const match = /^\s*return\s+(.+?)\s*$/.exec(line);
    if (match && lineIndent === indent + 4) {
      const expression = match[1]!;
      return expression.length <= 60 && !expression.includes('`') && !/[([{,\\]$/.test(expression) ? expression : undefined;
    }
  }
  return undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
