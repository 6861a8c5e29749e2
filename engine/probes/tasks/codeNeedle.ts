/**
 * Code haystack (ours): the user's own repository, laid out as the packer lays it out, with a needle written
 * as a code comment in the language of the file it lands in, at 10 depths per length. It tells a user how well
 * their model reads their own code, not generic prose.
 */
import { documentHeader, fileChunk, FILE_HEADER_OPEN } from '../../packer/format';
import { CumulativeCounts } from '../fit';
import { SeededRandom } from '../random';
import { keyWords } from '../words';
import { fitInstance, SkipInstance, TEN_DEPTHS, userPrompt, type ProbeTask, type RepositoryFile } from './common';

const BEFORE = 'Below is a software repository. A special magic number is hidden in it as a code comment. Make sure to memorize it. I will quiz you about the number afterwards.\n';
const AFTER = '\nWhat is the special magic number for {key} mentioned in the provided repository?';
const ANSWER_PREFIX = ' The special magic number for {key} mentioned in the provided repository is';

const HASH_COMMENT = /\.(py|sh|bash|zsh|rb|pl|r|ya?ml|toml|cfg|ini|conf|mk|cmake|dockerfile|gitignore|nix|ex|exs|jl|tf)$|(^|\/)(Makefile|Dockerfile)$/i;
const DASH_COMMENT = /\.(sql|lua|hs|elm|ada)$/i;
const MARKUP_COMMENT = /\.(html?|xml|svg|md|markdown|vue)$/i;

/** The needle as a one-line comment in the syntax of `path`'s language ('//' where unknown). */
export function commentLine(path: string, text: string): string {
  if (HASH_COMMENT.test(path)) return `# ${text}`;
  if (DASH_COMMENT.test(path)) return `-- ${text}`;
  if (MARKUP_COMMENT.test(path)) return `<!-- ${text} -->`;
  if (/\.css$/i.test(path)) return `/* ${text} */`;
  return `// ${text}`;
}

interface Line {
  text: string;
  /** The file whose content this line is, if any (headers and blank separators have none). */
  path?: string;
}

/** The packed document as lines, each tagged with its file. */
function documentLines(name: string, files: readonly RepositoryFile[]): Line[] {
  const lines: Line[] = documentHeader(name, files.length).split('\n').slice(0, -1).map((text) => ({ text }));
  for (const file of files) {
    const chunk = fileChunk(file.path, file.text).split('\n').slice(0, -1);
    chunk.forEach((text, i) => lines.push(i === 0 || (i === chunk.length - 1 && text === '') ? { text } : { text, path: file.path }));
  }
  return lines;
}

export function codeNeedleTask(): ProbeTask {
  let cached: { files: readonly RepositoryFile[]; lines: Line[] } | undefined;
  const task: ProbeTask = {
    name: 'code_needle',
    description: 'Code haystack (ours): a needle comment in your own repository at 10 depths per length',
    metric: 'string_match_all',
    maxTokens: 128,
    sources: ['your repository (packed)'],
    depthPercents: [...TEN_DEPTHS],
    build(context, spec) {
      const files = context.repository;
      if (!files || files.length === 0) throw new SkipInstance('no repository was given (the code haystack is your own code)');
      if (cached?.files !== files) cached = { files, lines: documentLines(context.repositoryName ?? 'repository', files) };
      const lines = cached.lines;
      const random = new SeededRandom(spec.seed, 'code_needle', spec.length, spec.index);
      const key = random.pick(keyWords());
      const value = random.digits(7);
      const sentence = `The special magic number for ${key} is: ${value}.`;
      const depth = (spec.depthPercent ?? 50) / 100;
      const counts = new CumulativeCounts((i) => context.counter.countText(`${lines[i]!.text}\n`));
      const after = AFTER.replace('{key}', key);
      const build = (units: number) => {
        const total = counts.tokens(units);
        let at = depth >= 1 ? units : counts.unitsWithin(Math.floor(total * depth), units);
        // Land inside a file: step past file headers and separators.
        while (at < units && lines[at]!.path === undefined) at++;
        const owner = lines[Math.min(at, units - 1)]?.path ?? lines[at - 1]?.path ?? 'x.ts';
        const needle = commentLine(owner, sentence);
        const text = lines.slice(0, units).map((line) => line.text);
        text.splice(at, 0, needle);
        const offset = text.slice(0, at).reduce((sum, line) => sum + line.length + 1, 0);
        return userPrompt(BEFORE, text.join('\n'), after, ANSWER_PREFIX.replace('{key}', key), [value],
          [{ text: needle, requestedDepth: depth, offsetInContext: offset }]);
      };
      if (lines.some((line) => line.text.startsWith(FILE_HEADER_OPEN) && line.text.includes(key))) throw new SkipInstance('key collides with a path');
      return fitInstance(task, context, spec, {
        minUnits: 1, maxUnits: lines.length, estimateContext: (units) => counts.tokens(units), build,
      });
    },
  };
  return task;
}
