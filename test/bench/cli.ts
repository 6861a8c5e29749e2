// Command lines of the benchmark scripts: node:util parseArgs (strict), --help / -h printing the usage and exiting 0
// before any work, and argument errors printed as `bench-NAME: message` plus a usage hint on stderr, exit status 2,
// no stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../../engine/errors';

export class BenchCli {
  /** `usage`: a first line `usage: ...`, one line on what is measured, then the options with their defaults. */
  constructor(readonly name: string, readonly usage: string) {}

  /** Parses `config.args` (default: this process's arguments) strictly; on --help or -h prints the usage and exits 0. */
  parse<const T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
    const args = config.args ?? process.argv.slice(2);
    const end = args.indexOf('--');
    if ((end < 0 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h')) {
      process.stdout.write(`${this.usage.trimEnd()}\n`);
      process.exit(0);
    }
    try {
      return parseArgs({ ...config, args, strict: true }) as ReturnType<typeof parseArgs<T>>;
    } catch (error) {
      // node's advice on positionals that start with '-' is noise here
      return this.fail((error instanceof Error ? error.message : String(error)).replace(/\. To specify a positional argument[^]*$/, ''));
    }
  }

  /** Prints `NAME: message` and the usage line on stderr and exits 2. */
  fail(message: string): never {
    process.stderr.write(`${this.name}: ${message}\n${this.usage.split('\n')[0]}\n(--help for the options)\n`);
    process.exit(2);
  }

  /** `text` as a number above 0 (an integer unless `fraction`), or an argument error about `option`. */
  number(option: string, text: string, fraction = false): number {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || (!fraction && !Number.isInteger(value))) {
      this.fail(`${option} expects a ${fraction ? 'number' : 'whole number'} above 0, not '${text}'`);
    }
    return value;
  }

  /** `text` if it is one of `allowed`, or an argument error about `option`. */
  oneOf<V extends string>(option: string, text: string, allowed: readonly V[]): V {
    if (!(allowed as readonly string[]).includes(text)) this.fail(`${option} expects one of ${allowed.join(', ')}, not '${text}'`);
    return text as V;
  }

  /** A comma-separated list whose items must be among `allowed`. */
  listOf<V extends string>(option: string, text: string, allowed: readonly V[]): V[] {
    const items = text.split(',').map((item) => item.trim()).filter(Boolean);
    const bad = items.find((item) => !(allowed as readonly string[]).includes(item));
    if (bad !== undefined || items.length === 0) this.fail(`${option} expects a comma-separated list of ${allowed.join(', ')}, not '${bad ?? text}'`);
    return items as V[];
  }

  /** Runs a parser of the engine's (one that throws a UserError on bad input) and turns a throw into an argument error. */
  check<R>(parse: () => R): R {
    try {
      return parse();
    } catch (error) {
      return this.fail(error instanceof UserError ? error.toString() : error instanceof Error ? error.message : String(error));
    }
  }
}
