// How TensorFlow uses the cores: decided before TensorFlow starts (tf.ts imports this module before
// tfjs-node), because TensorFlow sizes its thread pools once, from the environment, when it loads.
//
// On machines with up to SPLIT_MAX_CORES cores each TensorFlow kernel runs on one thread
// (TF_NUM_INTRAOP_THREADS=1) and the cores are used by running independent kernels side by side
// (TensorFlow's inter-op threads, one per core); the graph step (fast/step.ts) gives them independent
// work by splitting each training batch into one part per core — data parallelism inside one step,
// whose summed gradients are the whole batch's. On 2-core machines this beats TensorFlow's default
// (every kernel split over both cores: the small kernels of a 128-image batch lose more to the
// hand-over than they gain) on every reference model; the measurements, with dates and machines,
// are in docs/benchmarks.md ("How training uses the cores").
// Forward-only passes (reconstruct, encode, metrics: fast/infer.ts) run as one graph too and split
// their batches across the cores the same way. Machines with more cores keep TensorFlow's default:
// not measured here.
// TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS set by the user are kept as they are.
import os from 'node:os';
import v8 from 'node:v8';

/** Largest core count on which kernels run on one thread each and the graph step splits batches. */
export const SPLIT_MAX_CORES = 4;

const cores = os.availableParallelism();
if (process.env.TF_NUM_INTRAOP_THREADS === undefined && cores <= SPLIT_MAX_CORES)
  process.env.TF_NUM_INTRAOP_THREADS = '1';

// V8 marks the JavaScript heap on background threads while JavaScript runs ("concurrent marking").
// Where TensorFlow's kernels keep every core busy, those threads take cores from the kernels, and
// inference (whose every call hands back its outputs in new ArrayBuffers) ran into a state where V8
// marked the heap over and over: after a 128 px model's inference, 90 major collections instead of 5
// while the dense model reconstructed, and fewer images/s (docs/inference.md, "V8's marking"). On such
// machines the marking runs on the main thread, between calls; AE_CONCURRENT_MARKING=1 keeps V8's default.
if (cores <= SPLIT_MAX_CORES && process.env.AE_CONCURRENT_MARKING !== '1')
  v8.setFlagsFromString('--no-concurrent-marking');

/** Threads per kernel (intra-op) and kernels side by side (inter-op), as TensorFlow will size its pools. */
export const threading = {
  intraOp: Number(process.env.TF_NUM_INTRAOP_THREADS) || cores,
  interOp: Number(process.env.TF_NUM_INTEROP_THREADS) || cores,
};

/** Parts the graph step splits a training batch into: one per inter-op thread when each kernel runs on one thread, else 1. */
export function batchParts(): number {
  return threading.intraOp === 1 ? Math.max(1, threading.interOp) : 1;
}
