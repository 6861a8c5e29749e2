/**
 * onnxruntime-node, for every module of the engine and the model builder: import `* as ort` from here, never from
 * 'onnxruntime-node' directly, so that the float16 fix below runs before the first tensor is made.
 *
 * Since Node 24 (code-server's and newer VS Code hosts' Node, and any user's `prolong` on Node 24) `Float16Array` is a
 * global. onnxruntime-common then stores every float16 tensor's data in a Float16Array, but onnxruntime-node 1.30's
 * native binding does not know that typed array and reads it as zero bytes: every run with a float16 input (an fp16
 * model's KV cache) fails with "not enough space: expected N, got 0". onnxruntime-common looks the global up once, at
 * its first tensor; hiding it from this process before then keeps float16 data in Uint16Array, which the binding
 * reads. The engine's processes are ours (the engine process, the CLI, worker threads have their own globals).
 */
import * as ort from 'onnxruntime-node';

if (typeof (globalThis as { Float16Array?: unknown }).Float16Array !== 'undefined') {
  Reflect.deleteProperty(globalThis, 'Float16Array');
}

export = ort;
