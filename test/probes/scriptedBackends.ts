/**
 * Scripted backends for the probe tests. The oracle reads only the prompt (never the instance's answers) and
 * answers the way a perfect reader would, so it scoring 100 proves each answer is recoverable from the text;
 * the silent backend answers nothing.
 */
import type { Backend, BackendInfo, GenerateRequest, GenerateResult, PromptTokenCount } from '../../engine/backends/types';

function result(text: string): GenerateResult {
  return { text, finishReason: 'stop', promptTokens: 0, completionTokens: text.length === 0 ? 0 : 1, totalMs: 0, warnings: [] };
}

abstract class ScriptedBackend implements Backend {
  requests: GenerateRequest[] = [];
  constructor(private readonly name: string) {}
  async info(): Promise<BackendInfo> { return { kind: 'local', model: this.name, detail: 'scripted test backend' }; }
  async countPromptTokens(): Promise<PromptTokenCount> { return { tokens: 0, exact: false, note: 'scripted' }; }
  async generate(request: GenerateRequest, _onEvent: unknown, signal?: AbortSignal): Promise<GenerateResult> {
    this.requests.push(request);
    if (signal?.aborted) return { ...result(''), finishReason: 'cancelled' };
    return result(this.answer(request));
  }
  async dispose(): Promise<void> {}
  protected abstract answer(request: GenerateRequest): string;
}

export class SilentBackend extends ScriptedBackend {
  constructor() { super('silent'); }
  protected answer(): string { return ''; }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function topWords(words: string[], count: number): string[] {
  const counts = new Map<string, number>();
  for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, count).map(([word]) => word);
}

const DEFINITION = (name: string) => new RegExp(
  `^\\s*(?:export\\s+)?(?:default\\s+)?(?:declare\\s+)?(?:abstract\\s+)?(?:async\\s+)?(?:pub\\s+)?(?:function\\*?|class|interface|enum|type|const|let|var|def|fn|struct|trait)\\s+${escape(name)}\\b|^func\\s+(?:\\([^)]*\\)\\s*)?${escape(name)}\\b`, 'm');

export class OracleBackend extends ScriptedBackend {
  constructor() { super('oracle'); }

  protected answer(request: GenerateRequest): string {
    const prompt = request.messages[request.messages.length - 1]!.content;
    let match: RegExpExecArray | null;
    if ((match = /What (?:is|are all) the special magic \w+ for (.+) mentioned in the provided text\?$/.exec(prompt))) {
      const keys = match[1]!.split(/, and |, /);
      const values: string[] = [];
      for (const key of keys) {
        for (const found of prompt.matchAll(new RegExp(`One of the special magic \\w+ for ${escape(key)} is: (\\S+)\\.(?:\\s|$)`, 'g'))) values.push(found[1]!);
      }
      return values.join(', ');
    }
    if ((match = /What is the special magic number for (\S+) mentioned in the provided repository\?$/.exec(prompt))) {
      return new RegExp(`The special magic number for ${escape(match[1]!)} is: (\\d+)\\.`).exec(prompt)?.[1] ?? '';
    }
    if ((match = /Find all variables that are assigned the value (\d+) in the text above\.$/.exec(prompt))) {
      const task = prompt.slice(prompt.lastIndexOf('Memorize and track'));
      const names = new Set<string>();
      for (const line of task.matchAll(/^VAR (\w+) = (\d+)\s*$/gm)) if (line[2] === match[1]) names.add(line[1]!);
      for (let grown = true; grown;) {
        grown = false;
        for (const line of task.matchAll(/^VAR (\w+) = VAR (\w+)\s*$/gm)) {
          if (names.has(line[2]!) && !names.has(line[1]!)) { names.add(line[1]!); grown = true; }
        }
      }
      return [...names].join(' ');
    }
    if (prompt.endsWith('What are the 10 most common words in the above list?')) {
      const words = [...prompt.matchAll(/\d+\. ([^\s]+)/g)].map((entry) => entry[1]!);
      return topWords(words, 10).map((word, i) => `${i + 1}. ${word}`).join(' ');
    }
    if (prompt.endsWith('What are the three most frequently appeared words in the above coded text?')) {
      const text = prompt.slice(prompt.indexOf('coded words. ') + 13, prompt.indexOf('\nQuestion:'));
      return topWords(text.split(' ').filter((word) => word !== '...'), 3).join(' ');
    }
    if ((match = /Question: Which files? defines? `([^`]+)`(?: and `([^`]+)`)?\?$/.exec(prompt))) {
      const documents = [...prompt.matchAll(/Document \d+:\n([^\n]+)\n([\s\S]*?)(?=\n\nDocument \d+:\n|\n\nAnswer the question)/g)];
      const names = [match[1]!, match[2]].filter((name): name is string => name !== undefined);
      return names.map((name) => documents.find((doc) => DEFINITION(name).test(doc[2]!))?.[1] ?? '').join(', ');
    }
    if ((match = /Key: "([^"]+)"$/.exec(prompt))) {
      const json = prompt.slice(prompt.indexOf('JSON data:\n') + 11, prompt.indexOf('\n\nExtract the value'));
      return String((JSON.parse(json) as Record<string, string>)[match[1]!] ?? '');
    }
    if (prompt.endsWith('Question: What is the best thing to do in San Francisco?')) {
      const book = prompt.slice(prompt.indexOf('<book>') + 6, prompt.lastIndexOf('</book>'));
      return /[^.]*San Francisco[^.]*\./.exec(book)?.[0].trim() ?? '';
    }
    throw new Error(`oracle: unknown prompt ending ${JSON.stringify(prompt.slice(-120))}`);
  }
}

/** The oracle, until its `failAt`th request: that one throws, as a backend whose server died would. */
export class FailingBackend extends OracleBackend {
  constructor(private readonly failAt: number, private readonly error: Error) { super(); }
  override async generate(request: GenerateRequest, onEvent: unknown, signal?: AbortSignal): Promise<GenerateResult> {
    if (this.requests.length + 1 === this.failAt) { this.requests.push(request); throw this.error; }
    return super.generate(request, onEvent, signal);
  }
}
