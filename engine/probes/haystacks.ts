/**
 * Haystack text. RULER's essay haystack is Paul Graham's essays, which we may not download or ship; instead we
 * generate essay-like English prose from a small grammar written for this project (seeded, so the same seed gives
 * the same text). Results name it "generated prose" so nobody mistakes it for RULER's essays.
 */
import type { SeededRandom } from './random';

/** RULER's noise haystack, repeated once per unit. */
export const NOISE_BLOCK = 'The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.';

export const ESSAY_SOURCE = 'generated prose (our own grammar; RULER uses Paul Graham essays)';

const SUBJECTS = [
  'most people', 'good writers', 'young founders', 'experienced engineers', 'many students', 'the best teachers',
  'small companies', 'large organizations', 'careful readers', 'ambitious designers', 'new employees', 'investors',
  'most programmers', 'successful startups', 'old institutions', 'curious children', 'professional critics',
  'committees', 'the people who build things', 'managers', 'scientists', 'amateurs', 'experts', 'most of us',
];

const VERBS = [
  'notice', 'underestimate', 'learn', 'build', 'question', 'ignore', 'remember', 'explain', 'change', 'measure',
  'overlook', 'value', 'discover', 'avoid', 'misjudge', 'protect', 'simplify', 'rewrite', 'admire', 'test',
  'understand', 'copy', 'fear', 'defend', 'forget', 'improve', 'predict', 'describe', 'study', 'trust',
];

const OBJECTS = [
  'the value of simple tools', 'how long a project really takes', 'the shape of a hard problem',
  'what their users actually want', 'the cost of a bad decision', 'the first version of an idea',
  'the habits of their competitors', 'the difference between work and busywork', 'small details',
  'the advice of their friends', 'the reasons behind old rules', 'the limits of their knowledge',
  'the power of compound growth', 'unfashionable ideas', 'the quality of their own work', 'the obvious answer',
  'the things that seem like toys', 'how much they have already learned', 'the risks of standing still',
  'the opinions of strangers', 'long-term consequences', 'the structure of a good argument', 'their own mistakes',
  'the problems nobody talks about', 'the way a city grows', 'the rhythm of a working day', 'a blank page',
];

const TIMES = [
  'at first', 'in the long run', 'after a few years', 'when nobody is watching', 'sooner or later',
  'for a surprisingly long time', 'in the beginning', 'once they are older', 'almost every time', 'by default',
  'without realizing it', 'when the stakes are high', 'on a good day', 'in practice', 'more often than not',
];

const FREQUENCIES = ['rarely', 'often', 'usually', 'seldom', 'sometimes', 'eventually', 'quickly', 'gradually'];
const JUDGMENTS = ['surprising', 'strange', 'remarkable', 'encouraging', 'worth noticing', 'not obvious', 'easy to forget'];

type Part = 'subject' | 'verb' | 'object' | 'time' | 'frequency' | 'judgment';

/** Sentence patterns; {subject} etc. are filled at random, {Subject}/{Time} capitalized. */
const PATTERNS = [
  '{Subject} {frequency} {verb} {object} {time}.',
  'It is {judgment} how {subject} {verb} {object}.',
  'The reason is that {subject} {verb} {object} {time}.',
  'When {subject} {verb} {object}, they tend to {verb} {object} as well.',
  '{Time}, {subject} {verb} {object}.',
  'That is why {subject} should {verb} {object}.',
  'If you want to {verb} {object}, you have to {verb} {object} first.',
  'What matters is not {object} but {object}.',
  'I think {subject} {verb} {object} more than they realize.',
  'One way to see this is to look at {object}.',
  'This is partly because {subject} {frequency} {verb} {object}.',
  'There is a lot to say about {object}, but the short version is that {subject} {verb} it.',
  'Few things teach as much as {object}.',
  'You can tell a lot about {subject} from {object}.',
  'In my experience, {subject} {verb} {object} {time}, and then they {verb} {object}.',
  'It would be a mistake to {verb} {object}.',
  'Consider {object}.',
  '{Subject} who {verb} {object} {frequency} {verb} {object} too.',
  'The hard part is not to {verb} {object} but to {verb} {object}.',
  'So far, {subject} have not learned to {verb} {object}.',
];

const LISTS: Record<Part, readonly string[]> = {
  subject: SUBJECTS, verb: VERBS, object: OBJECTS, time: TIMES, frequency: FREQUENCIES, judgment: JUDGMENTS,
};

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** One generated sentence (ends with a period, no surrounding spaces). */
export function essaySentence(random: SeededRandom): string {
  const pattern = random.pick(PATTERNS);
  return pattern.replace(/\{(\w+)\}/g, (_, name: string) => {
    const part = name.toLowerCase() as Part;
    const word = random.pick(LISTS[part]);
    return name === part ? word : capitalize(word);
  });
}

/** A growing list of generated sentences: index i is always the same sentence for the same random stream. */
export class EssaySentences {
  private readonly sentences: string[] = [];

  constructor(private readonly random: SeededRandom) {}

  at(index: number): string {
    while (this.sentences.length <= index) this.sentences.push(essaySentence(this.random));
    return this.sentences[index]!;
  }
}
