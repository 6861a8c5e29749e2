// kernels/: Hugging Face Llama-family checkpoints -> ONNX decoder graphs for onnxruntime (never imports vscode).
export { convertCheckpoint, modelFileName, externalDataFileName, type ConvertOptions, type ConvertProgress, type ConvertResult } from './convert';
export { readSidecar, sidecarFileName, ioNames, layerName, type ModelSidecar, type WeightDtype, type IoDtype } from './sidecar';
export { writeRandomCheckpoint, randomShapes, type RandomCheckpointShape, type RandomCheckpointOptions, type RandomShapeName } from './randomCheckpoint';
export { readDecoderConfig, type DecoderConfig, type RopeScaling } from './hfConfig';
export { float32ToFloat16, float16ToFloat32 } from './float16';
export { convertToGgufFile, ggufFileName, ggufProblem, type GgufWeightType } from './ggufModel';
export { readGgufHeader, type GgufHeader } from './gguf';
