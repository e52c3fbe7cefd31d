// The trainer process: owns @tensorflow/tfjs-node (native backend only; docs/ARCHITECTURE.md), answers
// the host's typed requests, and never dies of a malformed message. Started by supervisor.ts
// with child_process.fork (Node) or utilityProcess.fork (Electron).
import { createRequire } from 'node:module';
import { HostToTrainer, methods, type MethodName, type MethodResult, type TrainerToHost } from './protocol';
import { getParentPort } from './port';
import type { BackendInfo } from '../contract';
// Before TensorFlow loads: how its kernels use the cores (TensorFlow sizes its thread pools once, at load).
import { threading } from '../engine/threads';

const port = getParentPort();
const send = (m: TrainerToHost) => port.send(m);

// The host decides when the trainer ends (a 'shutdown' request, or a kill). Ctrl-C in a terminal
// signals the whole process group: the host (`ae-studio train`, serve mode) then stops the run
// cleanly and shuts the trainer down itself, so the trainer does not die of that signal mid-batch.
process.on('SIGINT', () => undefined);
// A forked trainer whose host is gone (killed, crashed) has no one to report to: it exits instead
// of training on as an orphan. Checkpoints are written atomically, so nothing is half-written.
if (typeof process.send === 'function') process.on('disconnect', () => process.exit(0));
const startedAt = Date.now();

// A plain require at run time keeps tfjs-node out of every bundle (a bundled native addon cannot find its binary).
const requireNative = createRequire(import.meta.url);
type Tf = typeof import('@tensorflow/tfjs-node');
let tf: Tf;
try {
  tf = requireNative('@tensorflow/tfjs-node') as Tf;
} catch (err) {
  send({
    type: 'fatal',
    message:
      `TensorFlow's native library could not be loaded (${(err as Error).message.split('\n')[0]}). ` +
      'Run `npm run provision` to rebuild it. The studio does not train on the slow pure-JavaScript backend.',
  });
  process.exit(3);
}

function backendInfo(): BackendInfo {
  const backend = tf.getBackend();
  if (backend !== 'tensorflow') throw new Error(`tfjs is on the '${backend}' backend, not the native 'tensorflow' one`);
  const binding = (tf.backend() as unknown as { binding: { TF_Version: string } }).binding;
  return {
    backend: 'tensorflow',
    tfVersion: binding.TF_Version,
    tfjsVersion: tf.version['tfjs-node'] ?? 'unknown',
    threads: Math.max(threading.intraOp, threading.interOp),
    pid: process.pid,
  };
}

// The engine (and with it tfjs-node) loads only after the check above succeeded.
// (a dynamic import: esbuild still bundles it into trainer.cjs, tsx loads the .ts in tests)
const runsModule = import('./runs');
runsModule.catch(() => undefined); // reported per request if it ever fails

/** One handler per method; each parses its params and answers its method's result type. */
const handlers: { [M in MethodName]: (params: unknown) => Promise<MethodResult<M>> | MethodResult<M> } = {
  ping: (p) => ({ nonce: methods.ping.params.parse(p).nonce, pid: process.pid, uptimeMs: Date.now() - startedAt }),
  backendInfo: () => backendInfo(),
  tensorCount: async () => {
    await runsModule; // the engine (and tfjs-node) loaded, as any other job would load it
    const { tf } = await import('../engine/tf');
    const m = tf.memory();
    return { tensors: m.numTensors, bytes: m.numBytes };
  },
  runStart: async (p) => {
    const params = methods.runStart.params.parse(p);
    (await import('./gallery')).forgetModel(params.runDir);
    (await runsModule).startRun(params, (name, payload) => send({ type: 'event', name, payload }));
    return { accepted: true };
  },
  datasetBuiltin: async (p) => {
    const { name, workspaceDir } = methods.datasetBuiltin.params.parse(p);
    const [{ makeBuiltin, BUILTIN_TITLES }, { writeDataset }] = await Promise.all([
      import('../datasets/builtins'),
      import('../datasets/store'),
    ]);
    return writeDataset(workspaceDir, BUILTIN_TITLES[name], makeBuiltin(name), { kind: 'builtin', builtin: name });
  },
  datasetImport: async (p) => {
    const { startImport } = await import('./imports');
    startImport(methods.datasetImport.params.parse(p), (name, payload) => send({ type: 'event', name, payload }));
    return { accepted: true };
  },
  datasetPreviewImport: async (p) =>
    (await import('./imports')).previewImport(methods.datasetPreviewImport.params.parse(p)),
  datasetCancelImport: async (p) => {
    const { cancelImport } = await import('./imports');
    return { cancelling: cancelImport(methods.datasetCancelImport.params.parse(p).jobId) };
  },
  gallery: async (p) => (await import('./gallery')).galleryOp(methods.gallery.params.parse(p)),
  chooseSampler: async (p) => (await import('./generation')).chooseSampler(methods.chooseSampler.params.parse(p)),
  evaluate: async (p) => (await import('./evaluate')).evaluateRun(methods.evaluate.params.parse(p)),
  inspect: async (p) => (await import('./inspect')).inspectOp(methods.inspect.params.parse(p)),
  galleryTry: async (p) => (await import('./gallery')).tryImages(methods.galleryTry.params.parse(p)),
  noisePreview: async (p) => (await import('./noise-preview')).noisePreview(methods.noisePreview.params.parse(p)),
  exportRun: async (p) => (await import('./exports')).exportRun(methods.exportRun.params.parse(p)),
  importModel: async (p) => (await import('./exports')).importModel(methods.importModel.params.parse(p)),
  exportJob: async (p) => {
    const { runId, runDir, workspaceDir, config, dataset, fromCheckpoint, out } = methods.exportJob.params.parse(p);
    const { files, bytes } = await (
      await import('./jobs')
    ).exportJobFromWorkspace({ workspaceDir, out, run: { runId, runDir, config, dataset }, fromCheckpoint });
    return { files, bytes };
  },
  importJob: async (p) => {
    const params = methods.importJob.params.parse(p);
    (await import('./gallery')).forgetModel(params.runDir);
    return (await import('./jobs')).importJobIntoWorkspace(params);
  },
  batchRates: async (p) => {
    const { config } = methods.batchRates.params.parse(p);
    const { measureBatchRates, adviseBatchSize } = await import('../engine/fast/batch-advice');
    const rates = measureBatchRates(config);
    return { rates, advice: adviseBatchSize(config.batchSize, rates) };
  },
  runStop: async (p) => ({ stopping: (await runsModule).stopRun(methods.runStop.params.parse(p).runId) }),
};

async function onMessage(raw: unknown): Promise<void> {
  const parsed = HostToTrainer.safeParse(raw);
  if (!parsed.success) {
    send({
      type: 'protocol-error',
      message: `malformed message ignored: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    });
    return;
  }
  const msg = parsed.data;
  if (msg.type === 'shutdown') {
    process.exit(0);
  }
  if (msg.type !== 'request') return;
  const handler = (handlers as Record<string, (p: unknown) => unknown>)[msg.method];
  if (!handler) {
    send({
      type: 'response',
      id: msg.id,
      ok: false,
      error: { code: 'unknown_method', message: `unknown method '${msg.method}'` },
    });
    return;
  }
  try {
    send({ type: 'response', id: msg.id, ok: true, result: await handler(msg.params) });
  } catch (err) {
    send({
      type: 'response',
      id: msg.id,
      ok: false,
      error: { code: trainerErrorCode(err), message: (err as Error).message },
    });
  }
}

/** What kind of failure a request met, for the host's one error mapping (host/dispatch.ts hostError). */
function trainerErrorCode(err: unknown): 'disk_full' | 'not_found' | 'internal' | 'failed' {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'disk_full';
  if (code === 'ENOENT') return 'not_found';
  if (err instanceof TypeError || err instanceof ReferenceError) return 'internal'; // a bug, not the user's input
  return 'failed';
}

port.onMessage((m) => {
  onMessage(m).catch((err) => send({ type: 'protocol-error', message: String(err) }));
});

try {
  // A real kernel runs before we say ready.
  tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)).dataSync());
  send({ type: 'ready', info: backendInfo() });
} catch (err) {
  send({ type: 'fatal', message: (err as Error).message });
  process.exit(3);
}
