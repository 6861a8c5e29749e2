import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../errors';

/** One `prolong` subcommand: its module's default export. */
export interface Subcommand {
  summary: string;
  usage?: string;
  /** Returns the exit code. */
  run(args: string[], signal: AbortSignal): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with strict checking, turning its errors into a UserError that shows the usage. */
export function parseCommandArgs<T extends Options>(args: string[], options: T, usage: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UserError(`${(error as Error).message}.`, `Usage: ${usage}`);
  }
}

/** A positive integer option ("128", "4k", "32K", "1m"), or a UserError naming the option. */
export function parseCount(value: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(value.trim());
  if (!match) throw new UserError(`--${option} expects a number such as 4096, 32k or 1m, not '${value}'.`);
  const scale = match[2]!.toLowerCase() === 'k' ? 1024 : match[2]!.toLowerCase() === 'm' ? 1024 * 1024 : 1;
  return Math.round(Number(match[1]) * scale);
}
