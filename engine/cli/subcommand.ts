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

/** A command line that does not parse: the CLI exits 2 on it, as on an unknown command. */
export class UsageError extends UserError {}

/** parseArgs with strict checking, turning its errors into a UsageError in a sentence of our own, with the usage. */
export function parseCommandArgs<T extends Options>(args: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: joinNegativeValues(args, options), allowPositionals: true, options, strict: true });
  } catch (error) {
    throw new UsageError(usageProblem(error as NodeJS.ErrnoException), `Usage: ${usage}`);
  }
}

/**
 * `--budget -5` as `--budget=-5`: parseArgs takes a value starting with '-' for an option, and would say the
 * option "needs a value"; joined, the option's own check says what is wrong with -5.
 */
function joinNegativeValues(args: string[], options: Options): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') { joined.push(...args.slice(i)); break; }
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    const next = args[i + 1];
    if (name !== undefined && !name.includes('=') && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

/** parseArgs' message without its advice on quoting (meant for other programs' users), for the errors we can name. */
function usageProblem(error: NodeJS.ErrnoException): string {
  const option = /'(-[^' ]*)/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `Unknown option '${option}'.`;
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option && /argument missing|forget to specify/.test(error.message)) return `Option '${option}' needs a value.`;
  return `${error.message.split('\n')[0]!.replace(/\.*$/, '')}.`;
}

/** A positive integer option ("128", "4k", "32K", "1m"), or a UserError naming the option. */
export function parseCount(value: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(value.trim());
  if (!match) throw new UserError(`--${option} expects a number such as 4096, 32k or 1m, not '${value}'.`);
  const scale = match[2]!.toLowerCase() === 'k' ? 1024 : match[2]!.toLowerCase() === 'm' ? 1024 * 1024 : 1;
  return Math.round(Number(match[1]) * scale);
}
