// Training speed against the peers, in one sitting: ROUNDS interleaved rounds; in each, per model,
// the studio's bench (test/bench/train.ts, its own process), then Keras default, Keras with XLA
// (jit_compile=True) and PyTorch — the scripts in test/bench/peers/ (see peers.ts: their Python
// comes from the local pip index, their data is the studio's own digits). Prints one ROUND line per
// run, then per model the median samples/s of each framework, the median of the per-round ratios
// (ours / peer) and of the per-round ratio over the fastest peer of that round, and each
// framework's share of the machine's float32 matmul peak (a 4096² matmul in PyTorch, measured once
// before the rounds; the FLOPs per sample are the studio bench's count of the model it builds).
// These machines drift by up to 2× within minutes; ratios taken within a round are what this reports.
//   ROUNDS=3 MODELS="A B C D E" npx tsx test/bench/vs-peers.ts   (npm run bench:peers)
//   ROUNDS=1 EPOCHS=1 MODELS=E npx tsx test/bench/vs-peers.ts     (quick: 1 warm-up + 1 timed epoch each)
// D: conv AE on 64×64 RGB (2,000 pictures); E: the 128×128 RGB preset's network (1,000 pictures).
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { matmulPeak, peerData, peerPythons, runPeer } from './peers';

const rounds = Number(process.env.ROUNDS ?? 3);
const epochs = Number(process.env.EPOCHS ?? 3);
const models = (process.env.MODELS ?? 'A B C D E').split(/[\s,]+/).filter(Boolean);
const bad = models.filter((m) => !'ABCDE'.includes(m) || m.length !== 1);
if (bad.length || !(rounds >= 1) || !(epochs >= 1)) {
  console.error(
    `vs-peers: MODELS takes A B C D E (got ${bad.join(' ') || 'none wrong'}), ROUNDS and EPOCHS whole numbers ≥ 1.`,
  );
  process.exit(1);
}

const data = peerData();
const py = peerPythons();
const peak = matmulPeak(py.torch);
console.log(`PEAK ${JSON.stringify(peak ?? { gflops: null, source: 'BENCH_PEAK=0' })}`);

const peerArgs = (m: string) => ['--model', m, '--data', data, '--epochs', String(epochs)];
/** samples/s, and for the studio its GFLOP/s (its FLOPs per sample serve every framework). */
const runners: Record<string, (m: string) => { samples: number; gflops?: number }> = {
  studio: (m) => {
    let out: string;
    try {
      out = execFileSync('npx', ['tsx', 'test/bench/train.ts'], {
        env: { ...process.env, MODELS: m, BENCH_EPOCHS: String(epochs), BENCH_PEAK: '0' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        maxBuffer: 64 * 2 ** 20,
      });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(
        `the studio's bench (test/bench/train.ts, model ${m}) failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-15).join('\n')}`,
      );
    }
    const r = JSON.parse(
      out
        .split('\n')
        .find((l) => l.startsWith('RESULT '))!
        .slice(7),
    ) as { samples_per_s: number; train_gflops_per_s: number };
    return { samples: r.samples_per_s, gflops: r.train_gflops_per_s };
  },
  'keras default': (m) => ({ samples: runPeer(py.keras, 'keras_bench.py', peerArgs(m)).samples_per_s as number }),
  'keras xla': (m) => ({
    samples: runPeer(py.keras, 'keras_bench.py', [...peerArgs(m), '--jit', 'true']).samples_per_s as number,
  }),
  pytorch: (m) => ({ samples: runPeer(py.torch, 'torch_bench.py', peerArgs(m)).samples_per_s as number }),
};

const got: Record<string, Record<string, number[]>> = {};
const flopsPerSample: Record<string, number> = {};
for (let r = 1; r <= rounds; r++) {
  for (const m of models) {
    for (const [name, run] of Object.entries(runners)) {
      const res = run(m);
      const v = Math.round(res.samples);
      if (res.gflops !== undefined) flopsPerSample[m] = (res.gflops * 1e9) / res.samples;
      ((got[m] ??= {})[name] ??= []).push(v);
      console.log(
        `ROUND ${JSON.stringify({ round: r, model: m, framework: name, samples_per_s: v, load: Number(os.loadavg()[0].toFixed(2)) })}`,
      );
    }
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const m of models) {
  const g = got[m];
  const peers = Object.keys(g).filter((k) => k !== 'studio');
  const ratios = Object.fromEntries(
    peers.map((k) => [k, Number(median(g.studio.map((v, i) => v / g[k][i])).toFixed(2))]),
  );
  // the goal's measure: in each round the studio over the fastest peer of that round, then the median
  const overBest = g.studio.map((v, i) => v / Math.max(...peers.map((k) => g[k][i])));
  const medians = Object.fromEntries(Object.entries(g).map(([k, v]) => [k, median(v)]));
  const share = peak
    ? Object.fromEntries(
        Object.entries(medians).map(([k, v]) => [
          k,
          `${((100 * v * flopsPerSample[m]) / 1e9 / peak.gflops).toFixed(1)} %`,
        ]),
      )
    : undefined;
  console.log(
    `SUMMARY ${JSON.stringify({
      model: m,
      rounds,
      epochs,
      median_samples_per_s: medians,
      median_ratio_studio_over: ratios,
      median_ratio_over_best_peer: Number(median(overBest).toFixed(2)),
      ratio_over_best_peer_per_round: overBest.map((x) => Number(x.toFixed(2))),
      train_gflop_per_sample: Number((flopsPerSample[m] / 1e9).toFixed(4)),
      ...(share ? { share_of_matmul_peak: share, matmul_peak_gflops: peak!.gflops } : {}),
      runs: g,
    })}`,
  );
}
