// The other files of a cluster job folder: launch.sh (torchrun), an example SLURM
// batch script, requirements.txt and the README for whoever runs the job. Written as arrays of
// lines so shell's ${…} and markdown's backticks need no escaping.
import { codeOf, unreachable, type ModelConfig } from '../engine/config';
import { augmentActive } from '../engine/augment';

const describeAugment = (a: ModelConfig['augment']) =>
  [
    a.flip ? 'flips' : '',
    a.shift > 0 ? `shifts up to ${a.shift}` : '',
    a.rotate > 0 ? `rotations up to ${a.rotate}°` : '',
    a.brightness > 0 ? `brightness ±${a.brightness}` : '',
  ]
    .filter(Boolean)
    .join(', ');

export interface JobTexts {
  /** A short name for the job (the run id, or the config's kind). */
  name: string;
  config: ModelConfig;
  /** Epochs already trained in the studio (0 for a fresh job). */
  startEpoch: number;
  epochs: number;
  images: number;
  trainImages: number;
  valImages: number;
  testImages: number;
  parameters: number;
  datasetBytes: number;
  fromCheckpoint: boolean;
}

export const REQUIREMENTS_TXT = [
  '# Python packages train.py needs (PyTorch with CUDA on GPU nodes; the CPU build works too).',
  'torch>=2.1',
  'numpy>=1.24',
  'safetensors>=0.4',
  '',
].join('\n');

export const LAUNCH_SH = [
  '#!/usr/bin/env bash',
  '# Launches train.py on this node with torchrun (python -m torch.distributed.run). See README.md.',
  '#',
  '#   ./launch.sh [--workers N] [--epochs N] [--out DIR] [--max-restarts N]',
  '#               [--nnodes N --rdzv-endpoint HOST:PORT [--rdzv-id ID]]          several nodes (elastic rendezvous)',
  '#               [--nnodes N --node-rank R --master-addr HOST [--master-port P]]  several nodes (static ranks)',
  '#               [-- more train.py options]',
  '#',
  '#   --workers N        processes on this node: one per GPU, or a few on CPU (default 1)',
  '#   --epochs N         epochs this job trains, counted from where it started (default: the studio setting)',
  '#   --out DIR          metrics.jsonl and checkpoint/ (default: out/ next to this script); shared between nodes',
  '#   --max-restarts N   torchrun restarts all workers this many times after one fails; they continue',
  '#                      from the last checkpoint (default 3)',
  '#   --nnodes N         how many nodes take part; run this script on every one of them',
  '#   --rdzv-endpoint    HOST:PORT of the rendezvous (any one node; c10d backend), with --rdzv-id a job id',
  '#   --node-rank R, --master-addr HOST, --master-port P   static multi-node launch instead',
  '#   PYTHON             the interpreter (default python3), e.g. PYTHON=/opt/venv/bin/python ./launch.sh',
  'set -euo pipefail',
  'HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
  'WORKERS=1',
  'EPOCHS=""',
  'OUT="$HERE/out"',
  'MAX_RESTARTS=3',
  'NNODES=1',
  'NODE_RANK=""',
  'MASTER_ADDR=""',
  'MASTER_PORT=29500',
  'RDZV_ENDPOINT=""',
  'RDZV_ID="ae-studio-job"',
  'EXTRA=()',
  'need() { if [ "$#" -lt 2 ] || [ -z "$2" ]; then echo "launch.sh: $1 needs a value" >&2; exit 2; fi; }',
  'while [ "$#" -gt 0 ]; do',
  '  case "$1" in',
  '    --workers) need "$@"; WORKERS="$2"; shift 2 ;;',
  '    --epochs) need "$@"; EPOCHS="$2"; shift 2 ;;',
  '    --out) need "$@"; OUT="$2"; shift 2 ;;',
  '    --max-restarts) need "$@"; MAX_RESTARTS="$2"; shift 2 ;;',
  '    --nnodes) need "$@"; NNODES="$2"; shift 2 ;;',
  '    --node-rank) need "$@"; NODE_RANK="$2"; shift 2 ;;',
  '    --master-addr) need "$@"; MASTER_ADDR="$2"; shift 2 ;;',
  '    --master-port) need "$@"; MASTER_PORT="$2"; shift 2 ;;',
  '    --rdzv-endpoint) need "$@"; RDZV_ENDPOINT="$2"; shift 2 ;;',
  '    --rdzv-id) need "$@"; RDZV_ID="$2"; shift 2 ;;',
  '    --) shift; EXTRA=("$@"); break ;;',
  '    -h|--help) sed -n "2,20p" "$0"; exit 0 ;;',
  '    *) echo "launch.sh: unknown option $1 (see --help)" >&2; exit 2 ;;',
  '  esac',
  'done',
  'case "$WORKERS" in ""|*[!0-9]*|0) echo "launch.sh: --workers must be a whole number of at least 1" >&2; exit 2 ;; esac',
  'if [ -n "$EPOCHS" ]; then case "$EPOCHS" in *[!0-9]*) echo "launch.sh: --epochs must be a whole number" >&2; exit 2 ;; esac; fi',
  'if [ -n "$RDZV_ENDPOINT" ]; then',
  '  NODES=(--nnodes="$NNODES" --rdzv-backend=c10d --rdzv-endpoint="$RDZV_ENDPOINT" --rdzv-id="$RDZV_ID")',
  'elif [ "$NNODES" != "1" ]; then',
  '  if [ -z "$NODE_RANK" ] || [ -z "$MASTER_ADDR" ]; then echo "launch.sh: several nodes need --rdzv-endpoint, or --node-rank and --master-addr" >&2; exit 2; fi',
  '  NODES=(--nnodes="$NNODES" --node-rank="$NODE_RANK" --master-addr="$MASTER_ADDR" --master-port="$MASTER_PORT")',
  'else',
  '  NODES=(--standalone --nnodes=1)   # one node: a local rendezvous on a free port',
  'fi',
  '# A store of its own for every attempt: with the store torchrun shares across restarts, a node that',
  "# restarts for a peer's failure does not count it, and the nodes can wait for each other for ever.",
  'export TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1',
  'ARGS=(--out "$OUT")',
  'if [ -n "$EPOCHS" ]; then ARGS+=(--epochs "$EPOCHS"); fi',
  'exec ${PYTHON:-python3} -m torch.distributed.run --nproc_per_node="$WORKERS" --max-restarts="$MAX_RESTARTS" "${NODES[@]}" \\',
  '  "$HERE/train.py" "${ARGS[@]}" "${EXTRA[@]}"',
  '',
].join('\n');

export function slurmScript(t: JobTexts): string {
  return [
    '#!/bin/bash',
    `# An example SLURM batch script for this job (${t.name}): 2 nodes × 4 GPUs. Adapt the #SBATCH lines`,
    '# to your cluster (partition, account, GPUs per node, time), put the job folder on a shared',
    '# filesystem, make the Python environment of requirements.txt available, then: sbatch slurm.sbatch',
    `#SBATCH --job-name=ae-${t.name.slice(0, 40)}`,
    '#SBATCH --nodes=2',
    '#SBATCH --ntasks-per-node=1          # one launch.sh (torchrun) per node; it starts the workers',
    '#SBATCH --gpus-per-node=4',
    '#SBATCH --cpus-per-task=16',
    '#SBATCH --time=04:00:00',
    '#SBATCH --output=%x-%j.out',
    'set -euo pipefail',
    'cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")}"',
    '# module load cuda; source /path/to/venv/bin/activate     # your environment',
    'HEAD_NODE="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"',
    'srun --kill-on-bad-exit=1 ./launch.sh \\',
    '  --workers "${SLURM_GPUS_ON_NODE:-4}" \\',
    '  --nnodes "$SLURM_NNODES" \\',
    '  --rdzv-endpoint "$HEAD_NODE:29500" --rdzv-id "$SLURM_JOB_ID" \\',
    '  --max-restarts 3',
    '# A requeued or resubmitted job continues after its last checkpoint (out/checkpoint).',
    '',
  ].join('\n');
}

const num = (n: number) => n.toLocaleString('en-US');

/** The term the kind's code adds to the reconstruction loss, for the README's table. */
function penaltyText(c: ModelConfig): string {
  const code = codeOf(c.kind);
  switch (code) {
    case 'variational':
      return ` + β·KL (β = ${c.beta})`;
    case 'sparse':
      return ` + ${c.l1}·mean\\|z\\|`;
    case 'plain':
      return '';
    default:
      return unreachable(code, 'kind of code');
  }
}

export function readme(t: JobTexts): string {
  const c = t.config;
  const k = c.kernelSize;
  const lines = [
    `# Autoencoder Studio training job: ${t.name}`,
    '',
    'This folder trains one autoencoder of Autoencoder Studio with **PyTorch',
    'DistributedDataParallel**, launched by `torchrun`, on as many processes, GPUs and nodes as you',
    'give it, then goes back into the studio with `ae-studio job import`. Everything it needs is in',
    'this folder; nothing is downloaded.',
    '',
    '| | |',
    '|---|---|',
    `| model | ${c.kind}, ${c.inputShape.join('×')} images, ${c.latentDim}-d code, hidden ${JSON.stringify(c.hidden)}${c.kind.startsWith('conv') ? `, kernel ${k}` : ''}, ${c.activation} / ${c.outputActivation} output, ${num(t.parameters)} parameters |`,
    `| objective | ${c.loss.toUpperCase()}${penaltyText(c)}${c.noise.type !== 'none' && c.noise.level > 0 ? `, input noise ${c.noise.type} ${c.noise.level}` : ''} |`,
    `| optimizer | ${c.optimizer}, learning rate ${c.learningRate}${c.optimizer !== 'adam' ? `, momentum ${c.momentum}` : ''}, global batch ${c.batchSize}, seed ${c.seed} |`,
    `| data | ${num(t.images)} images (${num(t.trainImages)} training, ${num(t.valImages)} validation${t.testImages ? `, ${num(t.testImages)} test` : ''}: the studio's split${c.excludeLabels.length ? `, labels ${c.excludeLabels.join(', ')} left out of training and validation` : ''}), ${num(t.datasetBytes)} bytes |`,
    ...(c.balanceClasses || augmentActive(c.augment) || c.cropSize
      ? [
          `| sampling | ${[c.balanceClasses ? "class-balanced (the studio's order, shared out over all workers)" : '', augmentActive(c.augment) ? `augmented (${describeAugment(c.augment)}), as the studio does` : '', c.cropSize ? `random ${c.cropSize}×${c.cropSize} crops of the pictures, placed as the studio places them (seed, epoch, picture); validation on fixed crops` : ''].filter(Boolean).join('; ')} |`,
        ]
      : []),
    `| epochs | ${t.fromCheckpoint ? `continues the studio's run after epoch ${t.startEpoch}; ` : ''}trains ${t.epochs} epoch${t.epochs === 1 ? '' : 's'} by default (\`--epochs N\`) |`,
    '',
    '## Run it',
    '',
    '```sh',
    'pip install -r requirements.txt            # torch, numpy, safetensors (skip what the cluster has)',
    './launch.sh --workers 4                    # one node: 4 processes (one per GPU; on CPU a few)',
    './launch.sh --workers 4 --epochs 50        # more epochs than the studio setting',
    'PYTHON=/opt/venv/bin/python ./launch.sh    # another interpreter',
    '```',
    '',
    '`launch.sh` runs `${PYTHON:-python3} -m torch.distributed.run --nproc_per_node=N … train.py`.',
    'Without GPUs the processes talk over gloo (CPU); with GPUs each process takes one (`LOCAL_RANK`)',
    'and they talk over NCCL. `--device cpu` / `--backend gloo` after `--` force either:',
    '`./launch.sh --workers 2 -- --device cpu`. On CPU nodes torchrun gives each of several workers',
    'one thread (`OMP_NUM_THREADS=1`); with cores to spare set `OMP_NUM_THREADS` to cores ÷ workers.',
    '',
    'Speed options of `train.py` (after `--`): `--precision bf16` (autocast to bfloat16, CPU and CUDA),',
    '`--precision fp16` (CUDA, with loss scaling), `--channels-last` (conv models), `--compile`',
    '(torch.compile; training goes on without it where it does not work). Weights, optimizer state',
    'and the loss stay float32: `./launch.sh --workers 4 -- --precision bf16 --channels-last`.',
    '',
    '**Several nodes.** Run `launch.sh` on every node with the same rendezvous; the workers of all',
    'nodes form one job:',
    '',
    '```sh',
    './launch.sh --workers 8 --nnodes 4 --rdzv-endpoint node001:29500 --rdzv-id myjob     # elastic (c10d)',
    './launch.sh --workers 8 --nnodes 4 --node-rank 0 --master-addr node001 --master-port 29500   # static ranks',
    '```',
    '',
    '`slurm.sbatch` is an example batch script (2 nodes × 4 GPUs, `srun` starting one `launch.sh` per',
    'node). On Kubernetes, run the same command in each pod (e.g. a Kubeflow `PyTorchJob`, whose',
    'operator sets the rendezvous for `torchrun`). The folder must be on storage every node reads,',
    'and `out/` (or `--out DIR`) on storage shared by all nodes: rank 0 writes it and reads it back',
    'on a restart.',
    '',
    '## What it writes',
    '',
    '- `out/metrics.jsonl`: one line per epoch, written by rank 0:',
    '  `{"epoch", "train_loss", "val_loss", "samples_per_sec", "world_size", "seconds", "restart", "time"}`',
    '  (samples/s counts training images per second over all workers; validation is not timed).',
    '- `out/checkpoint/`: `model.safetensors` (the weights), `optimizer.safetensors` (the optimizer',
    '  state) and `state.json` (epochs done, loss history, early-stopping counters), replaced',
    '  atomically after every epoch.',
    '- `out/progress.json`: where the job is (epochs done, target epoch, status), rewritten',
    '  atomically when it starts, after every epoch and at the end; `ae-studio job watch` reads it.',
    '- `out/done.json` once the job has trained all its epochs (or stopped early); with a test split',
    '  it holds the test measurement (objective, MSE, PSNR, MSE per label), taken once at the end.',
    '',
    '**Stops and restarts lose at most the epoch in progress.** Any launch continues after the last',
    'checkpoint: kill the job, let the scheduler requeue it, or relaunch it by hand, and it goes on',
    "where it was; torchrun's own restarts after a failed worker (`--max-restarts`, default 3) do",
    'the same. The number of workers may change between launches (the global batch stays the same).',
    'On several nodes, a node that dies rejoins when you launch it again (the others wait for it);',
    'the node at `--rdzv-endpoint` must stay up. `launch.sh` sets `TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1`',
    'so that every restart gets a store of its own: torchrun counts restarts per node, and with its',
    'shared store the nodes can wait for each other for ever. Set it too if you run `torchrun` yourself.',
    'Each epoch draws its shuffle, noise and VAE samples from (seed, epoch, rank), so an epoch',
    'repeated after a restart on as many workers is the same epoch. Augmentation and class-balanced',
    "orders use the studio's own generator (mulberry32) with the studio's seeds (per step and per",
    'epoch), so they repeat too, and equal what the studio draws.',
    '',
    '## Bring it back',
    '',
    'Copy the folder (at least `job.json` and `out/`) back and import it:',
    '',
    '```sh',
    'ae-studio job import path/to/this-folder --workspace ~/my-workspace',
    '```',
    '',
    'or **Export › Import a trained job** in the studio. While it trains, `ae-studio job watch',
    'path/to/this-folder` follows it (epoch, loss, ETA) and imports it at the end with `--import`.',
    'The run appears with its loss curves; the',
    'Gallery, Export and Resume work as for a run trained in the studio. No Python is needed for that.',
    '',
    '## How it matches the studio',
    '',
    '`train.py` builds the network from the layer plan in `job.json` (`model`): the layers, sizes and',
    'activations the studio builds for this configuration. Initial weights come from',
    "`init/model.safetensors` (the studio's own initial weights, or the run's checkpoint with",
    "`--from-checkpoint`, plus its optimizer state). Layouts are PyTorch's: `Linear.weight` is",
    '[out, in], `Conv2d.weight` [out, in, k, k], `ConvTranspose2d.weight` [in, out, k, k]; images go',
    'in as N×H×W×C in 0..1 like in the studio and are permuted to NCHW for the convolutions.',
    "TensorFlow's 'same' padding is reproduced exactly (`SameConv2d` pads one pixel after, not one",
    'on each side; `SameConvTranspose2d` crops the same way), and the dense layers next to the',
    'flatten / reshape have their rows permuted between NHWC and NCHW when the studio converts the',
    'weights. The objective is per pixel: MSE, BCE (predictions clipped to [1e-7, 1 − 1e-7]),',
    '1 − mean SSIM (11×11 Gaussian window, σ = 1.5, valid positions, in float32) or',
    '(1 − w)·MSE + w·(1 − SSIM) with `ssimWeight` w,',
    'plus β·KL/(H·W·C) averaged over the batch for VAEs (z = μ + σ·ε), plus l1·mean|z| for sparse',
    'models; input noise is drawn afresh for every batch and the target stays clean. Adam, RMSprop',
    "and SGD use tfjs's formulas (`StudioOptimizer`: ε = 1e-7, Adam's ε added after the bias",
    "correction, RMSprop's inside the square root). The batch size in `job.json` is the global",
    'batch: each of N workers takes batch/N images per step, and DDP averages their gradients.',
    '',
    "Files: `job.json` (the studio's configuration, the layer plan, the weight names and shapes,",
    'the dataset description), `train.py`, `launch.sh`, `slurm.sbatch`, `requirements.txt`,',
    "`data/dataset.safetensors` (the images as uint8 N×H×W×C, `labels`, and the studio's",
    '`train_index` / `val_index` / `test_index`, left-out labels already taken out), `init/` (initial weights).',
    '',
    'Reference outputs without training: `python train.py --predict images.npy --predict-out DIR`',
    'writes `reconstruction.npy` and `code.npy` (N×H×W×C float32 or uint8 images in) with the',
    'latest weights.',
    '',
  ];
  return lines.join('\n');
}
