/**
 * The prolong.pack.* and prolong.tokenizer.path settings, read without the `vscode` module so tests can run it.
 */
import { PACK_ORDERS, type PackOrder } from '../../engine/packer';

export interface PackSettings {
  order: PackOrder;
  /** 0: no budget. */
  tokenBudget: number;
  maxFileBytes: number;
  exclude: string[];
  include: string[];
  /** Empty: the bundled Llama 3 tokenizer. */
  tokenizerPath: string;
  /**
   * A definitions index after the document's last file (engine/packer/definitions.ts): the setting as read (false
   * when unset). Packs for the local engine resolve an unset setting with the model's preference (settings.ts).
   */
  definitionsIndex: boolean;
}

function stringList(value: unknown, name: string, warnings: string[]): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) { warnings.push(`${name} should be a list of patterns; it is ignored.`); return []; }
  const strings = value.filter((item): item is string => typeof item === 'string' && item.trim() !== '');
  if (strings.length !== value.length) warnings.push(`${name} has entries that are not patterns; they are ignored.`);
  return strings;
}

/** Reads the settings through `get(name)` (a WorkspaceConfiguration for section `prolong`); warnings for values that were dropped. */
export function readPackSettings(get: (name: string) => unknown): { settings: PackSettings; warnings: string[] } {
  const warnings: string[] = [];
  const order = get('pack.order');
  const budget = get('pack.tokenBudget');
  const maxBytes = get('pack.maxFileBytes');
  const tokenizer = get('tokenizer.path');
  const settings: PackSettings = {
    order: typeof order === 'string' && (PACK_ORDERS as readonly string[]).includes(order) ? (order as PackOrder) : 'edit-aware',
    tokenBudget: typeof budget === 'number' && budget >= 0 ? Math.floor(budget) : 0,
    maxFileBytes: typeof maxBytes === 'number' && maxBytes > 0 ? Math.floor(maxBytes) : 1 << 20,
    exclude: stringList(get('pack.exclude'), 'prolong.pack.exclude', warnings),
    include: stringList(get('pack.include'), 'prolong.pack.include', warnings),
    tokenizerPath: typeof tokenizer === 'string' ? tokenizer.trim() : '',
    definitionsIndex: get('pack.definitionsIndex') === true,
  };
  if (order !== undefined && settings.order !== order) warnings.push(`prolong.pack.order '${String(order)}' is not one of ${PACK_ORDERS.join(', ')}; using edit-aware.`);
  if (budget !== undefined && settings.tokenBudget !== budget) warnings.push('prolong.pack.tokenBudget must be a whole number of tokens (0 for none); using no budget.');
  return { settings, warnings };
}
