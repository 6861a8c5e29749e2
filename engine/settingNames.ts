/**
 * How messages name what a user can change: in VS Code a setting (or a command), in the CLI and the MCP server a
 * flag. Every hint that names one takes it from here, so panel text never shows a CLI flag and the CLI never
 * points at a VS Code setting. The remote backend and the local engine both take one of these in their options.
 */
export interface SettingNames {
  /** The server's URL. */
  url: string;
  model: string;
  apiKey: string;
  timeout: string;
  /** The local engine's context length. */
  context: string;
  executionProvider: string;
  /** The pack's token budget. */
  packBudget: string;
  /** Where files are left out of the pack. */
  packExclude: string;
  /** The most answer tokens. */
  maxTokens: string;
  /** A tokenizer.json for the model. */
  tokenizer: string;
  /** How to use a real model instead of the bundled demo model. */
  realModel: string;
  /** Which runtime runs the local model (onnxruntime or llama.cpp). */
  runtime: string;
  /** How to install the llama.cpp runtime. */
  installLlamaCpp: string;
  /** How to build the llama.cpp runtime's binary on this machine (when a prebuilt one fails here). */
  buildLlamaCpp: string;
}

export const EXTENSION_SETTINGS: SettingNames = {
  url: 'the setting prolong.server.url',
  model: 'the setting prolong.server.model',
  apiKey: 'the API key (run "ProLong: Configure Server")',
  timeout: 'the setting prolong.server.requestTimeoutSeconds',
  context: 'the setting prolong.engine.contextTokens',
  executionProvider: 'the setting prolong.engine.executionProvider',
  packBudget: 'the setting prolong.pack.tokenBudget',
  packExclude: 'the setting prolong.pack.exclude, or a .prolongignore file',
  maxTokens: 'the setting prolong.ask.maxAnswerTokens',
  tokenizer: 'the setting prolong.tokenizer.path',
  realModel: 'run "ProLong: Select Model" (ProLong-8B on this machine) or "ProLong: Configure Server" (a ProLong server)',
  runtime: 'the setting prolong.engine.runtime',
  installLlamaCpp: 'the command "ProLong: Install llama.cpp Runtime"',
  buildLlamaCpp: 'the command "ProLong: Install llama.cpp Runtime" (Build for this machine)',
};

export const CLI_SETTINGS: SettingNames = {
  url: '--server',
  model: '--model',
  apiKey: 'the PROLONG_API_KEY environment variable',
  timeout: '--timeout',
  context: '--context',
  executionProvider: '--ep',
  packBudget: '--budget',
  packExclude: 'a .prolongignore file',
  maxTokens: '--max-tokens',
  tokenizer: '--tokenizer',
  realModel: '--model DIR (a converted model: `prolong pull princeton-nlp/Llama-3-8B-ProLong-512k-Instruct`) or --server URL (a ProLong server)',
  runtime: '--runtime',
  installLlamaCpp: '`prolong runtime install`',
  buildLlamaCpp: '`prolong runtime build`',
};
