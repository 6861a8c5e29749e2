/**
 * Repository QA (ours, in place of RULER's SQuAD and HotpotQA tasks, whose data we cannot download): RULER's QA
 * prompt and "Document i:" layout, with the user's files as documents. repo_qa_1 asks which file defines one
 * symbol (one golden document); repo_qa_2 asks which files define two symbols (two golden documents). The
 * last distractor may be cut at a line boundary so the prompt fills the length.
 */
import { definedNames } from '../../packer/definitions';
import { CumulativeCounts } from '../fit';
import { SeededRandom } from '../random';
import { fitInstance, SkipInstance, type BuiltPrompt, type ProbeTask, type RepositoryFile, type TaskContext } from './common';

const TEMPLATE = 'Answer the question based on the given documents. Only give me the answer and do not output any other words.\n\nThe following are given documents.\n\n{context}\n\nAnswer the question based on the given documents. Only give me the answer and do not output any other words.\n\nQuestion: {query}';
const ANSWER_PREFIX = ' Answer:';

/** Symbols defined in exactly one file, by file. */
export function uniqueDefinitions(files: readonly RepositoryFile[]): Map<string, string[]> {
  const definedIn = new Map<string, Set<string>>();
  for (const file of files) {
    for (const name of definedNames(file.text, file.path)) {
      if (name.length < 4) continue;
      let paths = definedIn.get(name);
      if (!paths) definedIn.set(name, paths = new Set());
      paths.add(file.path);
    }
  }
  const byFile = new Map<string, string[]>();
  for (const [name, paths] of definedIn) {
    if (paths.size !== 1) continue;
    const path = [...paths][0]!;
    // Names that appear as plain text in another file's path would give the answer away.
    if (files.some((file) => file.path.includes(name))) continue;
    byFile.set(path, [...(byFile.get(path) ?? []), name]);
  }
  return byFile;
}

interface DocumentLines { path: string; lines: string[] }

export function repoQaTask(name: 'repo_qa_1' | 'repo_qa_2'): ProbeTask {
  const goldenCount = name === 'repo_qa_1' ? 1 : 2;
  let cached: { files: readonly RepositoryFile[]; definitions: Map<string, string[]>; tokens: Map<string, number> } | undefined;
  const task: ProbeTask = {
    name,
    description: goldenCount === 1
      ? 'Repository QA (ours, for RULER qa_1): which file defines a symbol'
      : 'Repository QA (ours, for RULER qa_2): which two files define two symbols',
    metric: goldenCount === 1 ? 'string_match_part' : 'string_match_all',
    maxTokens: 32,
    sources: ['your repository (files as documents)'],
    build(context: TaskContext, spec) {
      const files = context.repository;
      if (!files || files.length < 2) throw new SkipInstance('no repository was given (the QA documents are your own files)');
      if (cached?.files !== files) cached = { files, definitions: uniqueDefinitions(files), tokens: new Map() };
      const { definitions, tokens } = cached;
      const fileTokens = (file: RepositoryFile) => {
        let count = tokens.get(file.path);
        if (count === undefined) tokens.set(file.path, count = context.counter.countText(file.text));
        return count;
      };
      const budget = spec.length - task.maxTokens;
      const random = new SeededRandom(spec.seed, name, spec.length, spec.index);
      const candidates = files.filter((file) => definitions.has(file.path) && fileTokens(file) <= budget / (3 * goldenCount));
      if (candidates.length < goldenCount) throw new SkipInstance(`the repository has fewer than ${goldenCount} file(s) under ${Math.floor(budget / (3 * goldenCount))} tokens that define a unique symbol`);
      const golden = random.sample(candidates, goldenCount);
      const symbols = golden.map((file) => random.pick(definitions.get(file.path)!));
      const query = goldenCount === 1 ? `Which file defines \`${symbols[0]}\`?` : `Which files define \`${symbols[0]}\` and \`${symbols[1]}\`?`;
      const [before, rawAfter] = TEMPLATE.split('{context}') as [string, string];
      const after = rawAfter.replace('{query}', query);
      const goldenPaths = new Set(golden.map((file) => file.path));
      const distractors = random.shuffled(files.filter((file) => !goldenPaths.has(file.path)));
      const depths = golden.map(() => random.next());
      // The stream of units: every golden line first (never cut), then distractors line by line.
      const stream: DocumentLines[] = [...golden, ...distractors].map((file) => ({ path: file.path, lines: file.text.split('\n') }));
      const unitOwner: { doc: number; line: number }[] = [];
      stream.forEach((doc, d) => doc.lines.forEach((_, line) => unitOwner.push({ doc: d, line })));
      const goldenUnits = golden.reduce((sum, _, g) => sum + stream[g]!.lines.length, 0);
      const headerTokens = (path: string) => context.counter.countText(`\n\nDocument 99:\n${path}\n`);
      const counts = new CumulativeCounts((i) => {
        const { doc, line } = unitOwner[i]!;
        return context.counter.countText(`${stream[doc]!.lines[line]}\n`) + (line === 0 ? headerTokens(stream[doc]!.path) : 0);
      });
      const build = (units: number): BuiltPrompt => {
        const docs: DocumentLines[] = [];
        for (let i = 0; i < units; i++) {
          const { doc, line } = unitOwner[i]!;
          if (line === 0) docs.push({ path: stream[doc]!.path, lines: [] });
          docs[docs.length - 1]!.lines.push(stream[doc]!.lines[line]!);
        }
        const others = docs.slice(goldenCount);
        const goldenAt = depths.map((depth) => Math.floor(depth * (others.length + 1)));
        const ordered = [...others];
        // Insert golden documents at their depths (later first so earlier indexes stay valid).
        const order = golden.map((_, g) => g).sort((a, b) => goldenAt[b]! - goldenAt[a]!);
        for (const g of order) ordered.splice(goldenAt[g]!, 0, docs[g]!);
        let contextText = '';
        const needles = [];
        for (let i = 0; i < ordered.length; i++) {
          if (i > 0) contextText += '\n\n';
          const g = docs.indexOf(ordered[i]!);
          if (g < goldenCount) needles.push({ text: `Document ${i + 1}:\n${ordered[i]!.path}\n`, requestedDepth: depths[g]!, message: 0, charOffset: before.length + contextText.length });
          contextText += `Document ${i + 1}:\n${ordered[i]!.path}\n${ordered[i]!.lines.join('\n')}`;
        }
        return {
          messages: [{ role: 'user', content: before + contextText + after }],
          assistantPrefix: ANSWER_PREFIX,
          answers: golden.map((file) => file.path),
          context: { message: 0, start: before.length, end: before.length + contextText.length },
          needles,
        };
      };
      return fitInstance(task, context, spec, {
        minUnits: goldenUnits, maxUnits: unitOwner.length, estimateContext: (units) => counts.tokens(units), build,
      });
    },
  };
  return task;
}
