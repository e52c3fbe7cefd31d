// Runs a benchmark script that does the studio's TensorFlow work in its own process the way the
// studio starts its TensorFlow processes (the trainer, the CLI's TensorFlow commands): with the C
// allocator's settings of engine/allocator.ts, which only a new process can take.
//   tsx test/bench/tf-process.ts test/bench/infer.ts
//   AE_BENCH_MALLOC=default tsx test/bench/tf-process.ts test/bench/infer.ts   (glibc's defaults, to compare)
import { spawnSync } from 'node:child_process';
import { glibcTunables } from '../../src-main/engine/allocator';

const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error('usage: tsx test/bench/tf-process.ts <bench script> [arguments]');
  process.exit(2);
}
const env = { ...process.env };
if (process.env.AE_BENCH_MALLOC !== 'default') env.GLIBC_TUNABLES = glibcTunables();
console.log(`allocator: ${env.GLIBC_TUNABLES ?? "glibc's defaults"}`);
const r = spawnSync(process.execPath, [...process.execArgv, script, ...args], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
