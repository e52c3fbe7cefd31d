#!/usr/bin/env node
// Loads @tensorflow/tfjs-node and prints the native backend, TensorFlow version and thread count.
// `--json` prints one JSON line (used by provision-tfjs.mjs). Exits non-zero when the native
// binding cannot load: the pure-JS backend is never an acceptable fallback (docs/ARCHITECTURE.md, Processes).
const os = require('node:os');
process.env.TF_CPP_MIN_LOG_LEVEL = process.env.TF_CPP_MIN_LOG_LEVEL || '2';
let tf;
try {
  tf = require('@tensorflow/tfjs-node');
} catch (err) {
  console.error(`tfjs-node's native binding could not load: ${err && err.message}`);
  console.error('Run `npm run provision` to (re)build it.');
  process.exit(1);
}
const backend = tf.getBackend();
const binding = tf.backend().binding;
const info = {
  backend,
  tfVersion: binding && binding.TF_Version,
  tfjsVersion: tf.version['tfjs-node'],
  threads: Number(process.env.TF_NUM_INTRAOP_THREADS) || os.availableParallelism(),
};
// A real kernel runs, not only a load: 2x2 matmul.
const out = tf.tidy(() =>
  tf
    .matMul(
      tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
      tf.tensor2d([[1], [1]]),
    )
    .dataSync(),
);
if (backend !== 'tensorflow' || out[0] !== 3 || out[1] !== 7) {
  console.error(`unexpected backend state: backend=${backend} matmul=${Array.from(out)}`);
  process.exit(1);
}
if (process.argv.includes('--json')) console.log(JSON.stringify(info));
else
  console.log(
    `tfjs-node native backend: ${info.backend} (TensorFlow ${info.tfVersion}, ${info.threads} threads, tfjs ${info.tfjsVersion})`,
  );
