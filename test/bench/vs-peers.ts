// Training speed against the peers, in one sitting: ROUNDS interleaved rounds; in each,
// per model, the studio's bench (test/bench/train.ts, its own process), then Keras default, Keras
// with XLA and PyTorch from the peer benchmark folder AE_ANCHORS (default: `shared/anchors` beside this
// repository on our benchmark machines; not part of the repository; set up once with its run-peers.sh). Prints one
// ROUND line per run, then per model the median samples/s of each framework and the median of the
// per-round ratios (ours / peer) and of the per-round ratio over the fastest peer of that round. These machines drift by up to 2× within minutes; ratios taken
// within a round are what this reports.
//   ROUNDS=3 MODELS="A B C D" npx tsx test/bench/vs-peers.ts   (D: conv AE on 64×64 RGB, 2,000 images)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { anchors, anchorsCache, anchorsPython } from './anchors';

const py = anchorsPython;
const data = path.join(anchorsCache, 'mnist10k.f32');
if (!fs.existsSync(py) || !fs.existsSync(data)) {
  console.error(`The peers are not set up: run ${path.join(anchors, 'run-peers.sh')} once (offline, ~2 min).`);
  process.exit(1);
}
const rounds = Number(process.env.ROUNDS ?? 3);
const models = (process.env.MODELS ?? 'A B C D').split(/[\s,]+/).filter(Boolean);

const result = (out: string) =>
  JSON.parse(
    out
      .split('\n')
      .find((l) => l.startsWith('RESULT '))!
      .slice(7),
  ) as Record<string, unknown>;
const runners: Record<string, (m: string) => number> = {
  studio: (m) =>
    result(
      execFileSync('npx', ['tsx', 'test/bench/train.ts'], {
        env: { ...process.env, MODELS: m },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ).samples_per_s as number,
  'keras default': (m) => keras(m, []),
  'keras xla': (m) => keras(m, ['--jit', 'true']),
  pytorch: (m) =>
    result(
      execFileSync(py, [path.join(anchors, 'bench_torch.py'), '--model', m, '--data', data], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ).samples_per_s as number,
};
function keras(m: string, extra: string[]): number {
  const out = execFileSync(py, [path.join(anchors, 'bench_keras.py'), '--model', m, '--data', data, ...extra], {
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return result(out).samples_per_s as number;
}

const got: Record<string, Record<string, number[]>> = {};
for (let r = 1; r <= rounds; r++) {
  for (const m of models) {
    for (const [name, run] of Object.entries(runners)) {
      const v = Math.round(run(m));
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
  const ratios = Object.fromEntries(
    Object.keys(g)
      .filter((k) => k !== 'studio')
      .map((k) => [k, Number(median(g.studio.map((v, i) => v / g[k][i])).toFixed(2))]),
  );
  // the goal's measure: in each round the studio over the fastest peer of that round, then the median
  const peers = Object.keys(g).filter((k) => k !== 'studio');
  const overBest = g.studio.map((v, i) => v / Math.max(...peers.map((k) => g[k][i])));
  console.log(
    `SUMMARY ${JSON.stringify({ model: m, rounds, median_samples_per_s: Object.fromEntries(Object.entries(g).map(([k, v]) => [k, median(v)])), median_ratio_studio_over: ratios, median_ratio_over_best_peer: Number(median(overBest).toFixed(2)), ratio_over_best_peer_per_round: overBest.map((x) => Number(x.toFixed(2))), runs: g })}`,
  );
}
