// The packer: a workspace as one long, deterministic document (see format.ts for its layout).
export { Packer, pack, OUTPUT_FILE_REASON, outputPathInRoot } from './packer';
export type { PackRequest, PackResult, PackedFile, PackProgress, PackerOptions } from './packer';
export type { SkippedFile } from './walk';
export { PACK_ORDERS, type PackOrder } from './order';
export { packedFileTexts, documentHeader, documentPaths, fileChunk, quotePath } from './format';
