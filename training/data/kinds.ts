/**
 * Kinds of training rows. A row's kind is written into the data's index as its position in this list, and
 * training/train.py reads it with its own copy of the list (test/training/kinds.test.ts keeps the two equal): append
 * new kinds at the end, so data made earlier keeps its meaning.
 */
import { ALL_TASKS } from '../../engine/probes/types';

export const KINDS = ['lm', 'ask', ...ALL_TASKS, 'ask_short', 'needle_path'] as const;
export type Kind = (typeof KINDS)[number];
