// How TensorFlow uses the cores: decided before TensorFlow starts (tf.ts imports this module before
// tfjs-node), because TensorFlow sizes its thread pools once, from the environment, when it loads.
//
// On machines with up to SPLIT_MAX_CORES cores each TensorFlow kernel runs on one thread
// (TF_NUM_INTRAOP_THREADS=1) and the cores are used by running independent kernels side by side
// (TensorFlow's inter-op threads, one per core); the graph step (fast/step.ts) gives them independent
// work by splitting each training batch into one part per core — data parallelism inside one step,
// whose summed gradients are the whole batch's. Measured on a 2-core machine (2026-12-02, Intel Xeon
// with AVX-512, `npm run bench` and the trainer): against TensorFlow's default (every kernel split
// over both cores; the small kernels of a 128-image batch lose more to the hand-over than they gain)
// the dense model A trains 1.3–1.5× faster, the conv model B 1.25×, the VAE C 1.07×, the 64×64 RGB
// conv model D 1.1×.
// Forward-only passes (validation, previews, evaluation) run kernel by kernel outside the graph and
// use one core there. Machines with more cores keep TensorFlow's default: not measured here.
// TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS set by the user are kept as they are.
import os from 'node:os';

/** Largest core count on which kernels run on one thread each and the graph step splits batches. */
export const SPLIT_MAX_CORES = 4;

const cores = os.availableParallelism();
if (process.env.TF_NUM_INTRAOP_THREADS === undefined && cores <= SPLIT_MAX_CORES)
  process.env.TF_NUM_INTRAOP_THREADS = '1';

/** Threads per kernel (intra-op) and kernels side by side (inter-op), as TensorFlow will size its pools. */
export const threading = {
  intraOp: Number(process.env.TF_NUM_INTRAOP_THREADS) || cores,
  interOp: Number(process.env.TF_NUM_INTEROP_THREADS) || cores,
};

/** Parts the graph step splits a training batch into: one per inter-op thread when each kernel runs on one thread, else 1. */
export function batchParts(): number {
  return threading.intraOp === 1 ? Math.max(1, threading.interOp) : 1;
}
