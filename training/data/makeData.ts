/**
 * Makes the demo model's training data with the product's own code, so that what the model learns is exactly what
 * the product sends it: repositories packed by our packer (ProLong's "a repository as one document"), probe
 * instances built by our probe tasks (every RULER kind, JSON KV, needles, repository QA) with other seeds than any
 * evaluation uses, and repository questions in the Ask view's own prompt (system text, packed repository, question),
 * all rendered with the bundled Llama 3 chat template and tokenized by the bundled tokenizer.
 *
 *   node out/training-data.js --roots DIR[,DIR] --out DIR --stage 1|2 --lengths 1024:1,2048:2 --examples N
 *     [--shard I --shards N] [--seed S] [--lm-docs N] [--max-doc-chars N] [--short-lengths 512:1,1024:1] [--fixtures N]
 *     [--follow-ups N] [--index-share P]
 *
 * Every direct subdirectory of a root is one repository. Writes, per shard, `<stage>-<shard>.tokens` (uint32 ids)
 * and `<stage>-<shard>.index` (int64 rows: offset, length, first loss position, kind, bucket length),
 * `<stage>-<shard>.masks` (int64 triples: row in the shard, from, to: positions after the first loss position whose
 * tokens are not learned, the user turns between a conversation's answers) and a JSON summary. LM rows (a packed
 * repository cut into rows of a bucket's length) take the loss everywhere; instances only on the answer and its end-of-turn token. A repository's LM rows come from its first --max-doc-chars characters
 * (3M by default), which bounds the tokenizer's time on a giant package.
 *
 * `ask_short` rows are the repository question's curriculum: 2-8 excerpts of a package's files (a few lines around
 * a definition each) in rows of --short-lengths tokens, so the two hops of "which file defines X" (find `def X`, then
 * the header above it) are a few dozen tokens apart before the long rows ask for them across thousands.
 *
 * `needle_path` rows (weight 0 unless --weights gives one) are RULER needles whose values are paths: "One of the
 * special magic paths for X is: PATH.", X defined in PATH, put into packed files; the answer copies the path.
 *
 * --fixtures N adds N generated repositories per shard (data/fixtureRepo.ts, seeds of this shard that no evaluation
 * uses, 6-60 modules, TypeScript and Python in turn), written to a temporary folder removed at the end. Their names are
 * random English words, so a question about them is answered by reading, never by guessing a name a package's code
 * makes likely (runs G-J learned such guesses: 16-43% teacher-forced on packages, 0% on a generated repository).
 *
 * --follow-ups N makes each ask, ask_short and needle_path row a conversation: after the first answer, up to N more
 * questions about other files (or other needles), as the Ask view sends a follow-up, each answer learned. A row's
 * context costs thousands of tokens and an answer a dozen: more answers per context is more of the signal these
 * kinds are short of for the same compute. Without it the rows are byte-identical to before.
 *
 * --index-share P packs that share of the ask and ask_short rows with the packer's definitions index
 * (engine/packer/definitions.ts, `prolong.pack.definitionsIndex`): a line per defined name with its file's path, so
 * the path follows the asked name (and the index comes last, just before the question) instead of sitting a file
 * body above its definition. Without it (0) the rows are as before.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildRepositoryPrompt } from '../../engine/backends/prompt';
import { Packer, packedFileTexts, documentHeader, fileChunk } from '../../engine/packer';
import { indexBlock, fileIndexLines } from '../../engine/packer/definitions';
import { TemplatePromptCounter } from '../../engine/probes/promptCounter';
import { SeededRandom } from '../../engine/probes/random';
import { createTask } from '../../engine/probes/tasks/index';
import { needleSentence } from '../../engine/probes/tasks/niah';
import { SkipInstance, type RepositoryFile } from '../../engine/probes/tasks/common';
import { uniqueDefinitions } from '../../engine/probes/tasks/repoQa';
import type { ProbeInstance, ProbeTaskName } from '../../engine/probes/types';
import { ChatTemplate } from '../../engine/tokenizer/chatTemplate';
import { loadTokenizer } from '../../engine/tokenizer';
import type { ChatMessage } from '../../engine/backends/types';
import { writeFixtureRepo } from './fixtureRepo';
import { KINDS, type Kind } from './kinds';
import { answerText, askQuestion, pathNeedleFollowUp, pathNeedleQuestion } from './targets';

/** A training row's prompt (and the assistant's opening, when the task gives one), the answer to learn, and the
 * follow-up questions asked after it in the same conversation. */
interface Example { messages: ChatMessage[]; assistantPrefix?: string; answer: string; followUps?: FollowUp[] }
interface FollowUp { question: string; assistantPrefix?: string; answer: string }

/** Share of instances per task (the rest of the mix is set by --lm-docs and the trainer's LM share). */
const TASK_WEIGHTS: Partial<Record<Kind, number>> = {
  niah_single_1: 2, niah_single_2: 2, niah_single_3: 2, niah_multikey_1: 2, niah_multikey_2: 2, niah_multikey_3: 2,
  niah_multivalue: 2, niah_multiquery: 2, vt: 1.5, cwe: 1, fwe: 1, repo_qa_1: 2, repo_qa_2: 1.5, json_kv: 1.5,
  needle_heatmap: 1, code_needle: 1.5, ask: 8, ask_short: 0, needle_path: 0,
};

interface Options {
  roots: string[]; out: string; stage: string; lengths: { length: number; weight: number }[];
  examples: number; shard: number; shards: number; seed: string; lmDocs: number; maxDocChars: number;
  /** Row lengths of the ask_short curriculum (its own, shorter than --lengths). */
  shortLengths: { length: number; weight: number }[];
  /** TASK_WEIGHTS with --weights kind=w,... applied (0 leaves a kind out). */
  weights: Partial<Record<Kind, number>>;
  /** Generated repositories added per shard. */
  fixtures: number;
  /** Questions after the first in each ask, ask_short and needle_path row (at most). */
  followUps: number;
  /** Share of ask and ask_short rows packed with a definitions index. */
  indexShare: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv, options: {
      roots: { type: 'string' }, out: { type: 'string' }, stage: { type: 'string' }, lengths: { type: 'string' },
      examples: { type: 'string' }, shard: { type: 'string' }, shards: { type: 'string' }, seed: { type: 'string' },
      'lm-docs': { type: 'string' }, 'max-doc-chars': { type: 'string' }, weights: { type: 'string' }, 'short-lengths': { type: 'string' },
      fixtures: { type: 'string' }, 'follow-ups': { type: 'string' }, 'index-share': { type: 'string' },
    },
  });
  if (!values.roots || !values.out || !values.stage || !values.lengths || !values.examples) {
    throw new Error('usage: training-data --roots DIR[,DIR] --out DIR --stage NAME --lengths L:W,... --examples N [--shard I --shards N] [--seed S] [--lm-docs N] [--weights kind=W,...]');
  }
  const lengths = parseLengths('--lengths', values.lengths);
  const followUps = Number(values['follow-ups'] ?? 0);
  if (!Number.isInteger(followUps) || followUps < 0 || followUps > 32) throw new Error(`bad --follow-ups ${values['follow-ups']}: a whole number from 0 to 32`);
  const indexShare = Number(values['index-share'] ?? 0);
  if (!(indexShare >= 0 && indexShare <= 1)) throw new Error(`bad --index-share ${values['index-share']}: a share from 0 to 1`);
  const shortLengths = parseLengths('--short-lengths', values['short-lengths'] ?? '512:1,1024:1');
  const weights: Partial<Record<Kind, number>> = { ...TASK_WEIGHTS };
  for (const part of (values.weights ?? '').split(',').filter(Boolean)) {
    const [kind, weight] = part.split('=');
    if (!KINDS.includes(kind as Kind) || kind === 'lm' || !(Number(weight) >= 0)) throw new Error(`bad --weights entry '${part}': kind=weight with a task kind (${KINDS.slice(1).join(', ')})`);
    weights[kind as Kind] = Number(weight);
  }
  return {
    roots: values.roots.split(','), out: values.out, stage: values.stage, lengths,
    examples: Number(values.examples), shard: Number(values.shard ?? 0), shards: Number(values.shards ?? 1),
    seed: values.seed ?? 'train', lmDocs: Number(values['lm-docs'] ?? 1_000_000),
    maxDocChars: Number(values['max-doc-chars'] ?? 3_000_000), weights, shortLengths, fixtures: Number(values.fixtures ?? 0),
    followUps, indexShare,
  };
}

function parseLengths(flag: string, text: string): { length: number; weight: number }[] {
  const lengths = text.split(',').map((part) => {
    const [l, w] = part.split(':');
    return { length: Number(l), weight: Number(w ?? 1) };
  });
  if (lengths.some((l) => !(l.length >= 256) || !(l.weight > 0))) throw new Error(`bad ${flag} ${text}`);
  return lengths;
}

/** Repositories: each root's subdirectories (links followed) with at least a few files, in a fixed order. */
function listRepositories(roots: readonly string[]): string[] {
  const out: string[] = [];
  for (const root of roots) {
    for (const name of readdirSync(root).sort()) {
      const path = join(root, name);
      try {
        if (statSync(path).isDirectory() && !name.startsWith('.') && !name.endsWith('.dist-info') && name !== '__pycache__') out.push(realpathSync(path));
      } catch { /* unreadable: not a repository */ }
    }
  }
  return out;
}

function weightedPick<T>(random: SeededRandom, items: readonly { item: T; weight: number }[]): T {
  const total = items.reduce((sum, x) => sum + x.weight, 0);
  let r = random.next() * total;
  for (const x of items) if ((r -= x.weight) < 0) return x.item;
  return items[items.length - 1]!.item;
}

class ShardWriter {
  private readonly tokensFd: number;
  private offset = 0;
  private readonly index: number[] = [];
  private readonly masks: number[] = [];
  readonly counts = new Map<string, { rows: number; tokens: number; lossTokens: number }>();

  constructor(private readonly prefix: string) {
    this.tokensFd = openSync(`${prefix}.tokens`, 'w');
  }

  /** A row learned from `lossStart` on, but for the `masked` [from, to) position ranges. */
  add(kind: Kind, ids: readonly number[], lossStart: number, bucket: number, masked: readonly (readonly [number, number])[] = []): void {
    if (ids.length > bucket) throw new Error(`${kind}: ${ids.length} tokens do not fit the ${bucket}-token row`);
    const buffer = Buffer.from(Uint32Array.from(ids).buffer);
    writeSync(this.tokensFd, buffer);
    const row = this.index.length / 5;
    for (const [from, to] of masked) this.masks.push(row, from, to);
    this.index.push(this.offset, ids.length, lossStart, KINDS.indexOf(kind), bucket);
    this.offset += ids.length;
    const key = `${kind}@${bucket}`;
    const c = this.counts.get(key) ?? { rows: 0, tokens: 0, lossTokens: 0 };
    c.rows++; c.tokens += ids.length; c.lossTokens += ids.length - lossStart - masked.reduce((sum, [from, to]) => sum + to - from, 0);
    this.counts.set(key, c);
  }

  close(): void {
    closeSync(this.tokensFd);
    writeFileSync(`${this.prefix}.index`, Buffer.from(BigInt64Array.from(this.index.map(BigInt)).buffer));
    writeFileSync(`${this.prefix}.masks`, Buffer.from(BigInt64Array.from(this.masks.map(BigInt)).buffer));
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = Date.now();
  mkdirSync(options.out, { recursive: true });
  // this shard's repositories, packed by the product's packer, and its generated ones
  const repositories = listRepositories(options.roots).filter((_, i) => i % options.shards === options.shard);
  const fixtureRoot = options.fixtures > 0 ? mkdtempSync(join(tmpdir(), 'prolong-training-fixtures-')) : undefined;
  try {
    if (fixtureRoot) repositories.push(...writeFixtures(fixtureRoot, options));
    await makeShard(options, repositories, started);
  } finally {
    if (fixtureRoot) rmSync(fixtureRoot, { recursive: true, force: true });
  }
}

/** --fixtures generated repositories under `root`, one folder each; their seeds name this stage and shard. */
function writeFixtures(root: string, options: Options): string[] {
  const random = new SeededRandom(options.seed, options.stage, options.shard, 'fixtures');
  const out: string[] = [];
  for (let i = 0; i < options.fixtures; i++) {
    const dir = join(root, `fixture-${i}`);
    mkdirSync(dir);
    writeFixtureRepo(dir, i % 2 === 0 ? 'ts' : 'py', `${options.seed}/${options.stage}/${options.shard}/${i}`, { modules: random.int(6, 60) });
    out.push(dir);
  }
  return out;
}

async function makeShard(options: Options, repositories: string[], started: number): Promise<void> {
  const tokenizer = loadTokenizer();
  const template = ChatTemplate.forTokenizer();
  const counter = new TemplatePromptCounter(tokenizer, template);
  const eot = tokenizer.tokenId('<|eot_id|>');
  const bos = tokenizer.tokenId('<|begin_of_text|>');
  if (eot === undefined || bos === undefined) throw new Error('the bundled tokenizer lacks <|eot_id|> or <|begin_of_text|>');
  const render = (messages: readonly ChatMessage[], assistantPrefix: string) => tokenizer.encodeWithSpecialTokens(template.render(messages) + assistantPrefix);
  const conversation = (example: Example) => conversationRow(example, tokenizer, template, eot);

  const packer = new Packer({ workers: 1, cacheFile: false });
  const packed: { name: string; files: RepositoryFile[]; ids: number[] }[] = [];
  for (const root of repositories) {
    try {
      const result = await packer.pack({ root, order: 'path', repositoryName: basename(root) });
      if (result.files.length < 3) continue;
      const files = packedFileTexts(result);
      packed.push({ name: basename(root), files, ids: packed.length < options.lmDocs ? tokenizer.encode(result.document.slice(0, options.maxDocChars)) : [] });
    } catch (error) {
      process.stderr.write(`skip ${root}: ${(error as Error).message}\n`);
    }
  }
  await packer.dispose();
  const packMs = Date.now() - started;

  const writer = new ShardWriter(join(options.out, `${options.stage}-${options.shard}`));
  const maxLength = Math.max(...options.lengths.map((l) => l.length));
  // LM rows: each packed repository cut into rows of the longest length (a tail of at least a quarter kept, padded
  // by the trainer), so long repositories give more rows: ProLong's upsampling of long documents
  for (const repo of packed) {
    for (let start = 0; start < repo.ids.length; start += maxLength - 1) {
      const piece = repo.ids.slice(start, start + maxLength - 1);
      if (piece.length < maxLength / 4) break;
      writer.add('lm', [bos, ...piece], 0, maxLength);
    }
  }

  const tasks = new Map<ProbeTaskName, ReturnType<typeof createTask>>();
  const kindWeights = Object.entries(options.weights).filter(([, weight]) => weight! > 0).map(([item, weight]) => ({ item: item as Kind, weight: weight! }));
  const lengthWeights = options.lengths.map((l) => ({ item: l.length, weight: l.weight }));
  const shortLengthWeights = options.shortLengths.map((l) => ({ item: l.length, weight: l.weight }));
  const random = new SeededRandom(options.seed, options.stage, options.shard);
  const withRepository = packed.filter((repo) => repo.files.length >= 4);
  let skipped = 0;
  for (let i = 0; i < options.examples; i++) {
    const kind = weightedPick(random, kindWeights);
    const length = weightedPick(random, lengthWeights);
    const repo = withRepository.length > 0 ? random.pick(withRepository) : undefined;
    try {
      if (kind === 'ask' || kind === 'ask_short' || kind === 'needle_path') {
        if (!repo) { skipped++; continue; }
        const rowLength = kind === 'ask_short' ? weightedPick(random, shortLengthWeights) : length;
        const { followUps } = options;
        // drawn only when asked for, so that without --index-share the random stream and the data stay as before
        const withIndex = kind !== 'needle_path' && options.indexShare > 0 && random.next() < options.indexShare;
        const example = kind === 'ask' ? askExample(repo, length, random, counter, followUps, withIndex)
          : kind === 'needle_path' ? pathNeedleExample(repo, length, random, counter, followUps) : askShortExample(repo, rowLength, random, counter, followUps, withIndex);
        if (!example) { skipped++; continue; }
        const row = fitted(conversation(example), rowLength); // follow-ups that do not fit are left out
        if (!row) { skipped++; continue; }
        writer.add(kind, row.ids, row.answers[0]![0], rowLength, row.answers.slice(1).map(([from], k) => [row.answers[k]![1], from] as const));
        continue;
      }
      const name = kind as ProbeTaskName;
      let task = tasks.get(name);
      if (!task) tasks.set(name, task = createTask(name));
      const depthPercent = task.depthPercents ? random.pick(task.depthPercents) : undefined;
      const instance: ProbeInstance = task.build(
        { counter, repository: repo?.files, repositoryName: repo?.name },
        { seed: `${options.seed}/${options.stage}/${options.shard}`, length, index: i, depthPercent },
      );
      const prompt = render(instance.messages, instance.assistantPrefix);
      const target = [...tokenizer.encode(answerText(instance)), eot];
      if (prompt.length + target.length > length) { skipped++; continue; }
      writer.add(kind, [...prompt, ...target], prompt.length, length);
    } catch (error) {
      if (error instanceof SkipInstance) { skipped++; continue; }
      throw error;
    }
  }
  writer.close();
  const summary = {
    stage: options.stage, shard: options.shard, repositories: packed.length, repositoryNames: packed.map((r) => r.name),
    skipped, packMs, totalMs: Date.now() - started, rows: Object.fromEntries([...writer.counts].sort()),
  };
  writeFileSync(join(options.out, `${options.stage}-${options.shard}.json`), JSON.stringify(summary, null, 1));
  process.stdout.write(`${options.stage} shard ${options.shard}: ${packed.length} repositories, ${[...writer.counts.values()].reduce((s, c) => s + c.rows, 0)} rows, ${skipped} skipped, ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

/** A conversation's tokens, and [from, to) of each answer (its end-of-turn token included). */
interface ConversationRow { ids: number[]; answers: [number, number][] }

/**
 * `example` as one row: its prompt and answer as the single-question rows have them, then each follow-up's user turn
 * as the chat template continues the conversation (the earlier answer in the assistant's message, as the Ask view
 * sends it) and its answer.
 */
function conversationRow(example: Example, tokenizer: ReturnType<typeof loadTokenizer>, template: ChatTemplate, eot: number): ConversationRow {
  let messages: ChatMessage[] = [...example.messages];
  const ids = tokenizer.encodeWithSpecialTokens(template.render(messages) + (example.assistantPrefix ?? ''));
  const answers: [number, number][] = [];
  const addAnswer = (answer: string) => {
    const from = ids.length;
    ids.push(...tokenizer.encode(answer), eot);
    answers.push([from, ids.length]);
  };
  addAnswer(example.answer);
  const endOfTurn = tokenizer.decode([eot]);
  let said = (example.assistantPrefix ?? '') + example.answer;
  for (const followUp of example.followUps ?? []) {
    // the follow-up's turn is what the template writes after the end of the assistant's message
    const answered = template.render([...messages, { role: 'assistant', content: said }]);
    messages = [...messages, { role: 'assistant', content: said }, { role: 'user', content: followUp.question }];
    const asked = template.render(messages) + (followUp.assistantPrefix ?? '');
    let common = 0;
    while (common < answered.length && answered[common] === asked[common]) common++;
    const end = asked.lastIndexOf(endOfTurn, common - endOfTurn.length);
    if (end < 0 || !asked.slice(0, end).endsWith(said.trim())) {
      throw new Error(`the chat template in ${template.source} does not end an assistant's message with ${endOfTurn}`);
    }
    ids.push(...tokenizer.encodeWithSpecialTokens(asked.slice(end + endOfTurn.length)));
    addAnswer(followUp.answer);
    said = (followUp.assistantPrefix ?? '') + followUp.answer;
  }
  return { ids, answers };
}

/** `row` cut after its last answer that ends within `length` tokens; none when even the first does not. */
function fitted(row: ConversationRow, length: number): ConversationRow | undefined {
  const answers = row.answers.filter(([, to]) => to <= length);
  if (answers.length === 0) return undefined;
  return { ids: row.ids.slice(0, answers[answers.length - 1]![1]), answers };
}

/**
 * A repository question in the Ask view's own prompt: a run of the repository's files packed as the product packs
 * them (header and path lines), cut to fit `length`, then a question whose answer is in those files.
 */
function askExample(
  repo: { name: string; files: RepositoryFile[] }, length: number, random: SeededRandom, counter: TemplatePromptCounter, followUps: number,
  withIndex: boolean,
): Example | undefined {
  // room for the system text, the question, the template and the answer, and the follow-ups
  const chosen = consecutiveFiles(repo.files, length - 400 - FOLLOW_UP_TOKENS * followUps, random, counter, withIndex);
  return chosen && questionAbout(repo.name, chosen, random, followUps, withIndex);
}

/** About what a follow-up turn costs: the user's turn, the assistant's header and the answer. */
const FOLLOW_UP_TOKENS = 48;

/**
 * At least two consecutive files of `files` (from a random one on), packed, within `budget` tokens (with their
 * definitions index lines `withIndex`); sorted by path.
 */
function consecutiveFiles(
  files: RepositoryFile[], budget: number, random: SeededRandom, counter: TemplatePromptCounter, withIndex = false,
): RepositoryFile[] | undefined {
  const start = random.int(0, Math.max(0, files.length - 1));
  const chosen: RepositoryFile[] = [];
  let tokens = 20;
  for (let i = start; i < files.length + start && chosen.length < files.length; i++) {
    const file = files[i % files.length]!;
    const cost = counter.countText(fileChunk(file.path, file.text)) + (withIndex ? counter.countText(fileIndexLines(file.path, file.text)) : 0);
    if (tokens + cost > budget) { if (chosen.length === 0) continue; break; }
    chosen.push(file);
    tokens += cost;
  }
  if (chosen.length < 2) return undefined;
  return chosen.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Copying a path after its key, the half of "which file defines X" that needs no hop: files packed as the product
 * packs them, with 1-4 RULER needles ("One of the special magic paths for X is: PATH.", X a symbol defined only in
 * PATH, the paths all different, each at a random line), asked in RULER's words for one of them; the answer is the
 * path as its header writes it. Runs J-L could not do this (evalAsk --needle: 0-5%): they copy numbers and uuids, and
 * drift into digits after a few tokens of a path.
 */
function pathNeedleExample(
  repo: { name: string; files: RepositoryFile[] }, length: number, random: SeededRandom, counter: TemplatePromptCounter, followUps: number,
): Example | undefined {
  const chosen = consecutiveFiles(repo.files, length - 250 - FOLLOW_UP_TOKENS * followUps, random, counter);
  if (!chosen) return undefined;
  // one symbol of each of up to four files (more with follow-ups, which ask for the others): the other needles name
  // other paths, so the key decides the answer
  const defining = [...uniqueDefinitions(chosen)];
  if (defining.length === 0) return undefined;
  const needles = random.sample(defining, Math.min(defining.length, random.int(1, 4 + followUps))).map(([path, symbols]) => ({ path, symbol: random.pick(symbols) }));
  const lines = packedText(repo.name, chosen).split('\n');
  for (const { symbol, path } of needles) lines.splice(random.int(0, lines.length), 0, needleSentence('paths', symbol, path));
  const asked = random.pick(needles);
  const others = random.sample(needles.filter((n) => n !== asked), Math.min(followUps, needles.length - 1));
  return {
    ...pathNeedleQuestion(lines.join('\n'), asked.symbol), answer: ` ${asked.path}.`,
    followUps: others.map((n) => ({ ...pathNeedleFollowUp(n.symbol), answer: ` ${n.path}.` })),
  };
}

/**
 * `files` as the product's packer writes them: the document header, then each file under its path header (and
 * `withIndex`, the definitions index after them).
 */
function packedText(name: string, files: readonly RepositoryFile[], withIndex = false): string {
  const index = withIndex ? indexBlock(files.map((f) => fileIndexLines(f.path, f.text))) : '';
  return documentHeader(name, files.length) + files.map((f) => fileChunk(f.path, f.text)).join('') + index;
}

/**
 * `files` packed as the product packs them, in the Ask view's prompt, with askQuestion's question and answer, then up
 * to `followUps` more of its questions, each about a file not asked about before (so no answer repeats an earlier one).
 */
function questionAbout(name: string, files: RepositoryFile[], random: SeededRandom, followUps: number, withIndex: boolean): Example | undefined {
  const unasked = uniqueDefinitions(files);
  const asked: FollowUp[] = [];
  while (asked.length <= followUps) {
    const qa = askQuestion(files, unasked, random);
    if (!qa) break;
    unasked.delete(qa.path);
    asked.push(qa);
  }
  const [first, ...more] = asked;
  if (!first) return undefined;
  return { messages: buildRepositoryPrompt({ repository: packedText(name, files, withIndex), question: first.question }), answer: first.answer, followUps: more };
}

/**
 * The curriculum's repository question: 2-8 consecutive files of a package, each cut to an excerpt of a few lines
 * (most start at a definition, with up to four lines before it), packed as the product packs files, in a row of
 * `length` tokens; the question and answer are askQuestion's, over the symbols defined in exactly one excerpt.
 */
function askShortExample(
  repo: { name: string; files: RepositoryFile[] }, length: number, random: SeededRandom, counter: TemplatePromptCounter, followUps: number,
  withIndex: boolean,
): Example | undefined {
  // the system text, the question, the template and the answer take about 150; each follow-up about FOLLOW_UP_TOKENS,
  // but the follow-ups never more than half the rest (fitted() drops those that do not fit): else a short row with
  // many follow-ups would leave its excerpts no room at all
  const budget = length - 200 - Math.min(FOLLOW_UP_TOKENS * followUps, Math.floor((length - 200) / 2));
  const count = Math.min(repo.files.length, random.int(2, 8));
  const start = random.int(0, repo.files.length - 1);
  const perFile = Math.floor((budget - 20) / count);
  const chosen: RepositoryFile[] = [];
  for (let i = 0; i < count; i++) {
    const file = repo.files[(start + i) % repo.files.length]!;
    const excerpt = fileExcerpt(file, random.int(Math.max(24, perFile >> 1), Math.max(24, perFile)), random, counter, withIndex);
    if (excerpt) chosen.push(excerpt);
  }
  return chosen.length < 2 ? undefined : questionAbout(repo.name, chosen, random, followUps, withIndex);
}

const DEFINITION_LINE = /^\s*(?:export\s+)?(?:async\s+)?(?:def|class|function|interface|enum|func|fn|struct)\s+[A-Za-z_]/;

/**
 * Whole lines of `file` that cost at most `tokens` with their header (and `withIndex`, the index lines of the names
 * they define), starting at a definition 70% of the time.
 */
function fileExcerpt(file: RepositoryFile, tokens: number, random: SeededRandom, counter: TemplatePromptCounter, withIndex: boolean): RepositoryFile | undefined {
  const lines = file.text.split('\n');
  const definitions = lines.flatMap((line, i) => (DEFINITION_LINE.test(line) ? [i] : []));
  const first = definitions.length > 0 && random.next() < 0.7
    ? Math.max(0, random.pick(definitions) - random.int(0, 4))
    : random.int(0, Math.max(0, lines.length - 1));
  const taken: string[] = [];
  let cost = counter.countText(fileChunk(file.path, ''));
  for (let i = first; i < lines.length; i++) {
    const lineCost = counter.countText(`${lines[i]!}\n`) + (withIndex ? counter.countText(fileIndexLines(file.path, lines[i]!)) : 0);
    if (cost + lineCost > tokens) break;
    taken.push(lines[i]!);
    cost += lineCost;
  }
  return taken.some((line) => line.trim() !== '') ? { path: file.path, text: `${taken.join('\n')}\n` } : undefined;
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
