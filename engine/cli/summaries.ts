// One line per `prolong` command, for `prolong --help` and each command's own `summary` (main.ts loads the
// command modules lazily, so their lines live here).
export const COMMAND_SUMMARIES = {
  pack: 'pack a directory into one long document with exact token counts',
  convert: 'convert a Hugging Face checkpoint to ONNX: a model directory for the local engine',
  probe: 'measure how much context a model really uses (RULER, JSON KV, needle grid, your code as haystack)',
  ask: 'ask a question about a repository: packs it and streams the answer (local engine or a server)',
  runtime: 'install the llama.cpp runtime (GPU) for the local engine, or show what is installed',
} as const;
