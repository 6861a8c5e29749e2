/**
 * Repository questions through the engine, as the Ask view asks them: a repository packed by our packer (within a
 * token budget), then "Which file defines `X`?" for seeded symbols defined in exactly one packed file; an answer is
 * right when it names that file's path. One pack per repository, so every question after the first reuses the
 * engine's prefix cache (as follow-up questions in the Ask view do).
 *
 *   node out/training-eval-ask.js --repo DIR | --generate ts|py [--model DIR] [--budget 8000] [--questions 50]
 *     [--seed eval] [--ep cpu] [--verbose] [--teacher-forced | --needle] [--index] [--plain] [--guarded | --unguarded]
 *     [--release-margin N]
 *
 * --generate writes a generated repository (training/data/fixtureRepo.ts, seeded) to a temporary folder, removed at
 * the end. Without --model: the bundled demo model. Prints the share of right answers. --index packs with the
 * definitions index (`prolong.pack.definitionsIndex`: a line per defined name, with its file). --plain asks "Which
 * file defines X?" without backticks: after a space the name's first token is the one `def X` has in the code; after
 * a backtick it is another, the one the index (`` `X`: path ``) has. Answers are generated as the product generates
 * them: the model's sidecar says whether the engine keeps the answer's paths to the packed files'
 * (generation.guardPaths, engine/runtime/citationGuard.ts); --guarded and --unguarded decide instead, to measure what
 * the guard adds (run O, which does not ask for it, on generated Python with the index, 50 questions: 5 right free, 14
 * guarded, 16 with a guard that never lets go); --release-margin: the guard's margin in nats, instead of RELEASE_MARGIN.
 *
 * --teacher-forced: instead of free answers, the training target (targets.ts's whichFileAnswer) is fed
 * token by token as the assistant's prefix and the model's greedy next token compared with the target's; prints each
 * answer with the tokens it missed in [brackets], and how many answers were whole and which part failed first.
 *
 * --needle: the same symbols and paths as RULER needles instead ("One of the special magic paths for X is: PATH." put
 * into the packed repository at a seeded line, asked in RULER's words with its answer prefix): copying a path that
 * follows its key, without the hop from a definition to the header above it. A model that fails this cannot copy
 * paths at all (runs J-L: 0-1 of 20 on a generated repository, though they find 90-100% of RULER's number needles).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildRepositoryPrompt } from '../../engine/backends/prompt';
import type { ChatMessage } from '../../engine/backends/types';
import { demoModelDir } from '../../engine/models/demoModel';
import { pack, packedFileTexts } from '../../engine/packer';
import { SeededRandom } from '../../engine/probes/random';
import { needleSentence } from '../../engine/probes/tasks/niah';
import { uniqueDefinitions } from '../../engine/probes/tasks/repoQa';
import { LocalBackend } from '../../engine/runtime/localBackend';
import { loadTokenizer } from '../../engine/tokenizer';
import { writeFixtureRepo, type FixtureLanguage } from './fixtureRepo';
import { pathNeedleQuestion, whichFileAnswer } from './targets';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      repo: { type: 'string' }, generate: { type: 'string' }, model: { type: 'string' }, budget: { type: 'string' },
      questions: { type: 'string' }, seed: { type: 'string' }, ep: { type: 'string' }, verbose: { type: 'boolean' },
      'teacher-forced': { type: 'boolean' }, needle: { type: 'boolean' }, index: { type: 'boolean' }, plain: { type: 'boolean' },
      unguarded: { type: 'boolean' }, guarded: { type: 'boolean' }, 'release-margin': { type: 'string' },
    },
  });
  if (!values.repo === !values.generate || (values.generate && values.generate !== 'ts' && values.generate !== 'py')) {
    throw new Error('give --repo DIR or --generate ts|py');
  }
  if (values['teacher-forced'] && values.needle) throw new Error('give --teacher-forced or --needle, not both');
  const seed = values.seed ?? 'eval';
  const margin = values['release-margin'] === undefined ? undefined : Number(values['release-margin']);
  if (values.guarded && values.unguarded) throw new Error('give --guarded or --unguarded, not both');
  // the model's sidecar decides (generation.guardPaths), as in the product, unless a flag does
  const guard = values.guarded ? true : values.unguarded ? false : undefined;
  const budget = Number(values.budget ?? 8000);
  const count = Number(values.questions ?? 50);
  const temporary = values.generate ? mkdtempSync(join(tmpdir(), 'prolong-eval-ask-')) : undefined;
  const root = temporary ?? resolve(values.repo!);
  if (temporary) writeFixtureRepo(temporary, values.generate as FixtureLanguage, seed);
  // The repository's name seeds the questions: a generated one's, not its temporary folder's, so a run repeats.
  const name = values.generate ? `generated-${values.generate}` : basename(root);
  const modelDir = values.model ?? demoModelDir();
  const ep = values.ep === 'auto' || values.ep === 'webgpu' ? values.ep : 'cpu';
  const backend = new LocalBackend({ modelDir, executionProvider: ep, contextTokens: Math.min(16_384, budget + 1024), prefillChunkTokens: 2048 });
  try {
    const result = await pack({
      root, budget, order: 'path', repositoryName: name, definitionsIndex: values.index,
    });
    const files = packedFileTexts(result);
    const pairs = [...uniqueDefinitions(files)].flatMap(([path, symbols]) => symbols.map((symbol) => ({ path, symbol })));
    if (pairs.length === 0) throw new Error(`no symbol is defined in exactly one of the ${files.length} packed files of ${root}`);
    const chosen = new SeededRandom('eval-ask', seed, name).sample(pairs, Math.min(count, pairs.length));
    let right = 0;
    const started = Date.now();
    if (values['teacher-forced']) return await teacherForced(backend, result.document, chosen);
    const depths = new SeededRandom('eval-ask-needle', seed, name);
    for (const { path, symbol } of chosen) {
      const request = values.needle ? pathNeedleRequest(result.document, symbol, path, depths.next())
        : { messages: buildRepositoryPrompt({ repository: result.document, question: values.plain ? `Which file defines ${symbol}?` : `Which file defines \`${symbol}\`?` }) };
      const answer = await backend.run({
        prompt: { kind: 'chat', messages: request.messages, assistantPrefix: 'assistantPrefix' in request ? request.assistantPrefix : undefined },
        sampling: { maxTokens: 48, temperature: 0 }, citationGuard: guard, citationReleaseMargin: margin,
      });
      const ok = answer.text.includes(path);
      if (ok) right++;
      if (values.verbose) process.stdout.write(`${ok ? 'right' : 'wrong'}\t${symbol}\t${path}\t${JSON.stringify(answer.text.trim())}\n`);
    }
    const info = await backend.info();
    process.stdout.write(`${info.model} on ${values.generate ? `a generated ${values.generate} repository (seed ${seed})` : root}${values.needle ? ', as path needles' : ''}${values.index ? ', with the definitions index' : ''}${guard === false ? ', paths unguarded' : guard ? ', paths guarded' : ''}${margin !== undefined ? `, release margin ${margin}` : ''}: ${right}/${chosen.length} right `
      + `(${(100 * right / chosen.length).toFixed(0)}%), pack ${files.length} files, ${result.totalTokens} tokens; ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    return 0;
  } finally {
    await backend.dispose();
    if (temporary) rmSync(temporary, { recursive: true, force: true });
  }
}

/** RULER's single-needle prompt over the packed document, the needle naming `symbol`'s path, at `depth` (0-1) of it. */
function pathNeedleRequest(document: string, symbol: string, path: string, depth: number): { messages: ChatMessage[]; assistantPrefix: string } {
  const lineEnd = document.indexOf('\n', Math.floor(document.length * depth));
  const at = lineEnd < 0 ? document.length : lineEnd + 1;
  return pathNeedleQuestion(`${document.slice(0, at)}${needleSentence('paths', symbol, path)}\n${document.slice(at)}`, symbol);
}

/**
 * The target answer fed token by token: at each token, the model's greedy next token given the target's tokens before
 * it. Counts whole answers and where the first miss falls (in the symbol copied from the question, or in the path).
 */
async function teacherForced(backend: LocalBackend, repository: string, chosen: { path: string; symbol: string }[]): Promise<number> {
  const tokenizer = loadTokenizer();
  const firstMiss = { none: 0, symbol: 0, path: 0, other: 0 };
  for (const { path, symbol } of chosen) {
    const messages = buildRepositoryPrompt({ repository, question: `Which file defines \`${symbol}\`?` });
    const target = whichFileAnswer(path);
    const ids = tokenizer.encode(target);
    let shown = '';
    let missAt = -1;
    for (let i = 0; i < ids.length; i++) {
      const prefix = tokenizer.decode(ids.slice(0, i));
      const piece = tokenizer.decode([ids[i]!]);
      const answer = await backend.generate({ messages, assistantPrefix: prefix, sampling: { maxTokens: 1, temperature: 0 } }, () => {});
      const hit = answer.text === piece;
      if (!hit && missAt < 0) missAt = prefix.length;
      shown += hit ? piece : `[${piece}|${answer.text}]`;
    }
    const pathStart = target.indexOf(path);
    const symbolAt = target.indexOf(`\`${symbol}\``);
    firstMiss[missAt < 0 ? 'none' : missAt >= pathStart && missAt < pathStart + path.length ? 'path'
      : symbolAt >= 0 && missAt >= symbolAt && missAt <= symbolAt + symbol.length + 1 ? 'symbol' : 'other']++;
    process.stdout.write(`${shown}\n`);
  }
  process.stdout.write(`teacher-forced: ${firstMiss.none}/${chosen.length} whole; first miss in the symbol ${firstMiss.symbol}, `
    + `in the path ${firstMiss.path}, elsewhere ${firstMiss.other}\n`);
  return 0;
}

main().then((code) => process.exit(code), (error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
