/** Every probe task by name. */
import { ALL_TASKS, RULER_TASKS, type ProbeTaskName } from '../types';
import { codeNeedleTask } from './codeNeedle';
import { commonWordsTask } from './commonWords';
import type { ProbeTask } from './common';
import { frequentWordsTask } from './frequentWords';
import { jsonKvTask } from './jsonKv';
import { needleHeatmapTask } from './needleHeatmap';
import { niahTask } from './niah';
import { repoQaTask } from './repoQa';
import { variableTrackingTask } from './variableTracking';
import { UserError } from '../../errors';

export function createTask(name: ProbeTaskName): ProbeTask {
  switch (name) {
    case 'vt': return variableTrackingTask();
    case 'cwe': return commonWordsTask();
    case 'fwe': return frequentWordsTask();
    case 'repo_qa_1': case 'repo_qa_2': return repoQaTask(name);
    case 'json_kv': return jsonKvTask();
    case 'needle_heatmap': return needleHeatmapTask();
    case 'code_needle': return codeNeedleTask();
    default: return niahTask(name);
  }
}

/** Task names from a list such as "all", "ruler", "niah_single_1,vt" (groups: all, ruler, niah, recall). */
export function parseTaskList(list: string): ProbeTaskName[] {
  const groups: Record<string, readonly ProbeTaskName[]> = {
    all: ALL_TASKS,
    ruler: RULER_TASKS,
    niah: RULER_TASKS.filter((task) => task.startsWith('niah_')),
    recall: ['json_kv', 'niah_multikey_2', 'niah_multikey_3', 'niah_multivalue'],
  };
  const names: ProbeTaskName[] = [];
  for (const item of list.split(',').map((part) => part.trim()).filter((part) => part.length > 0)) {
    const group = groups[item];
    const matches = group ?? ((ALL_TASKS as readonly string[]).includes(item) ? [item as ProbeTaskName] : undefined);
    if (!matches) {
      throw new UserError(`Unknown probe task '${item}'.`, `Use a group (${Object.keys(groups).join(', ')}) or task names: ${ALL_TASKS.join(', ')}.`);
    }
    for (const name of matches) if (!names.includes(name)) names.push(name);
  }
  if (names.length === 0) throw new UserError('No probe tasks were named.', 'Pass --tasks all, or a comma-separated list of task names.');
  return names;
}
