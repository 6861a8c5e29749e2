/**
 * Scoring, following the public evaluation code: RULER's string_match_all / string_match_part
 * (scripts/eval/synthetic/constants.py; whole words for the word tasks, see wordMatchAll), HELMET's substring exact match (normalize_answer), and a ROUGE-1
 * F-measure for Fu et al.'s needle (without stemming). Every score is 0-100 for one answer.
 */
import type { MetricName } from './types';

/** Share of references found in the prediction, case-insensitive. */
export function stringMatchAll(prediction: string, references: readonly string[]): number {
  if (references.length === 0) return 0;
  const lower = prediction.toLowerCase();
  const found = references.filter((reference) => lower.includes(reference.toLowerCase())).length;
  return (found / references.length) * 100;
}

/**
 * Share of references found in the prediction as whole words, case-insensitive. For the word tasks (cwe, fwe):
 * their lists hold words inside other words (table/stable, storm/stormy, raw/drawer), so a substring match would
 * credit a wrong word. Tasks whose answers are numbers, names or paths keep RULER's substring match.
 */
export function wordMatchAll(prediction: string, references: readonly string[]): number {
  if (references.length === 0) return 0;
  const found = references.filter((reference) => wholeWord(reference).test(prediction)).length;
  return (found / references.length) * 100;
}

function wholeWord(word: string): RegExp {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // A letter or digit on either side makes it part of another word.
  return new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'iu');
}

/** 100 if any reference is in the prediction, case-insensitive. */
export function stringMatchPart(prediction: string, references: readonly string[]): number {
  const lower = prediction.toLowerCase();
  return references.some((reference) => lower.includes(reference.toLowerCase())) ? 100 : 0;
}

const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/** HELMET's (SQuAD's) normalize_answer: lower case, no punctuation, no articles, single spaces. */
export function normalizeAnswer(text: string): string {
  const lower = text.toLowerCase();
  let noPunctuation = '';
  for (const ch of lower) if (!PUNCTUATION.has(ch)) noPunctuation += ch;
  const noArticles = noPunctuation.replace(/\b(a|an|the)\b/g, ' ');
  return noArticles.split(/\s+/).filter((word) => word.length > 0).join(' ');
}

/** 100 if any normalized reference is a substring of the normalized prediction. */
export function substringExactMatch(prediction: string, references: readonly string[]): number {
  const normalized = normalizeAnswer(prediction);
  return references.some((reference) => normalized.includes(normalizeAnswer(reference))) ? 100 : 0;
}

function unigrams(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter((word) => word.length > 0);
}

/** ROUGE-1 F-measure between the prediction and the best reference. */
export function rouge1F(prediction: string, references: readonly string[]): number {
  const predicted = unigrams(prediction);
  let best = 0;
  for (const reference of references) {
    const wanted = unigrams(reference);
    if (predicted.length === 0 || wanted.length === 0) continue;
    const counts = new Map<string, number>();
    for (const word of wanted) counts.set(word, (counts.get(word) ?? 0) + 1);
    let overlap = 0;
    for (const word of predicted) {
      const left = counts.get(word) ?? 0;
      if (left > 0) { overlap++; counts.set(word, left - 1); }
    }
    if (overlap === 0) continue;
    const precision = overlap / predicted.length;
    const recall = overlap / wanted.length;
    best = Math.max(best, (2 * precision * recall) / (precision + recall));
  }
  return best * 100;
}

export function scoreAnswer(metric: MetricName, prediction: string, references: readonly string[]): number {
  switch (metric) {
    case 'string_match_all': return stringMatchAll(prediction, references);
    case 'word_match_all': return wordMatchAll(prediction, references);
    case 'string_match_part': return stringMatchPart(prediction, references);
    case 'substring_exact_match': return substringExactMatch(prediction, references);
    case 'rouge1_f': return rouge1F(prediction, references);
  }
}

/** Mean of per-instance scores, rounded to two decimals like RULER's tables. */
export function meanScore(scores: readonly number[]): number {
  if (scores.length === 0) return 0;
  return Math.round((scores.reduce((sum, score) => sum + score, 0) / scores.length) * 100) / 100;
}
