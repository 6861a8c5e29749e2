import { resolve } from 'node:path';
import { UserError } from '../errors';
import { parseServerOptions } from './serverOptions';
import { runtimeFlags } from './runtimeFlags';
import { explicitDefinitionsIndex } from './definitionsIndexFlags';
import { parseCommandArgs, parseCount, type Subcommand } from './subcommand';

const usage = 'prolong mcp [--dir DIR] [--server URL [--model NAME] | --model MODEL_DIR|FILE.gguf [--runtime auto|onnx|llama.cpp] [--llama-cpp DIR]] [--api chat|completions] [--timeout SECONDS] '
  + '[--header "Name: value"]... [--tokenizer PATH] [--context N] [--definitions-index | --no-definitions-index] [--probe-results DIR_OR_FILE]...\n'
  + '  An MCP server over stdio with the tools pack, ask, probe and probe_summary. The API key comes from PROLONG_API_KEY.\n'
  + '  ask packs with the definitions index when its call asks, else as --definitions-index / --no-definitions-index say, else\n'
  + '  when the local model was trained with it.';

const command: Subcommand = {
  summary: 'serve pack, ask, probes and probe results to MCP clients over stdio',
  usage,
  async run(args, signal) {
    const { values, positionals } = parseCommandArgs(args, {
      dir: { type: 'string' },
      server: { type: 'string' },
      model: { type: 'string' },
      api: { type: 'string' },
      timeout: { type: 'string' },
      header: { type: 'string', multiple: true },
      tokenizer: { type: 'string' },
      context: { type: 'string' },
      runtime: { type: 'string' },
      'llama-cpp': { type: 'string' },
      'probe-results': { type: 'string', multiple: true },
      'definitions-index': { type: 'boolean' },
      'no-definitions-index': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    }, usage);
    if (values.help) { process.stdout.write(`${usage}\n`); return 0; }
    if (positionals.length > 0) throw new UserError(`prolong mcp takes no positional arguments, got '${positionals[0]}'.`, `Usage: ${usage}`);
    const definitionsIndex = explicitDefinitionsIndex(values);
    const server = parseServerOptions(values);
    const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
    const { createProlongMcpServer } = await import('../mcp/server');
    const root = resolve(values.dir ?? '.');
    const mcp = createProlongMcpServer({
      root,
      version: '0.1.0',
      probeResults: values['probe-results'] ?? [],
      definitionsIndex,
      backend: values.server || values.model ? {
        server: values.server, model: values.model, apiKey: process.env.PROLONG_API_KEY || undefined,
        headers: server.headers, requestTimeoutMs: server.requestTimeoutMs, api: server.api, tokenizerPath: values.tokenizer,
        contextTokens: values.context ? parseCount(values.context, 'context') : undefined,
        ...(values.server ? {} : runtimeFlags(values)),
      } : undefined,
    });
    const transport = new StdioServerTransport();
    await mcp.server.connect(transport);
    process.stderr.write(`prolong mcp: serving ${root} over stdio\n`);
    // until the client closes stdin (or SIGINT)
    await new Promise<void>((done) => {
      mcp.server.server.onclose = () => done();
      process.stdin.once('end', () => done());
      signal.addEventListener('abort', () => done(), { once: true });
    });
    await mcp.close();
    return 0;
  },
};

export default command;
