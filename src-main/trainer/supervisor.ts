// Starts and watches the trainer process (modelled on VS Code's utilityProcess.ts):
// a typed config, typed requests with timeouts, and a crash or exit turned into a `crashed` state
// with a plain-words reason. The host and the UI stay up whatever the trainer does.
import { EventEmitter } from 'node:events';
import { fork } from 'node:child_process';
import type { BackendInfo, TrainerState } from '../contract';
import { glibcTunables } from '../engine/allocator';
import type { z } from 'zod';
import {
  methods,
  trainerEvents,
  type MethodName,
  type MethodInput,
  type MethodResult,
  type TrainerEventArgs,
  type TrainerToHost,
} from './protocol';

/** The minimum a trainer process handle offers; child_process and Electron's utilityProcess both fit. */
export interface TrainerChild {
  readonly pid: number | undefined;
  send(message: unknown): void;
  kill(signal?: NodeJS.Signals): void;
  onMessage(listener: (message: unknown) => void): void;
  /** `signal` is null when the process exited by itself. */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  /** Lines the process wrote to stderr (kept for crash reports). */
  onStderr(listener: (chunk: string) => void): void;
}

export type SpawnTrainer = () => TrainerChild;

export interface SupervisorConfig {
  /** Creates the process (child_process.fork under Node, utilityProcess.fork under Electron). */
  spawn: SpawnTrainer;
  /** How long the trainer may take to load tfjs-node and report ready. */
  readyTimeoutMs?: number;
  /** Default time limit of one request. */
  requestTimeoutMs?: number;
}

/** A failure the host turns into the contract's error codes. */
export class TrainerError extends Error {
  constructor(
    /** `failed`: the trainer could not do what was asked with what it was given (the message says why). */
    readonly code: 'trainer_unavailable' | 'timeout' | 'internal' | 'failed' | 'disk_full' | 'not_found',
    message: string,
  ) {
    super(message);
    this.name = 'TrainerError';
  }
}

/** Only what the trainer needs from our environment; nothing else leaks into it. */
export function trainerEnv(extra: Record<string, string> = {}): Record<string, string> {
  const keep = [
    'PATH',
    'HOME',
    'USERPROFILE',
    'TMPDIR',
    'TEMP',
    'TMP',
    'LANG',
    'LC_ALL',
    'SYSTEMROOT',
    'TF_NUM_INTRAOP_THREADS',
    'TF_NUM_INTEROP_THREADS',
    'TF_ENABLE_ONEDNN_OPTS',
  ];
  const env: Record<string, string> = {
    TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2',
    GLIBC_TUNABLES: glibcTunables(),
  };
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k] as string;
  return { ...env, ...extra };
}

/** child_process.fork spawner (tests, serve mode, CI). `execArgv` e.g. ['--import', 'tsx'] for a .ts entry. */
export function forkSpawner(
  entry: string,
  opts: { execArgv?: string[]; env?: Record<string, string> } = {},
): SpawnTrainer {
  return () => {
    const child = fork(entry, [], {
      execArgv: opts.execArgv ?? [],
      env: opts.env ?? trainerEnv(),
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    return {
      get pid() {
        return child.pid;
      },
      send: (m) => {
        if (child.connected) child.send(m as object);
      },
      kill: (signal) => child.kill(signal),
      onMessage: (l) => child.on('message', l),
      onExit: (l) => child.on('exit', (code, signal) => l(code, signal)),
      onStderr: (l) => child.stderr?.on('data', (d: Buffer) => l(d.toString())),
    };
  };
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

type SupervisorEvents = {
  state: [TrainerState];
  'protocol-error': [string];
  'trainer-event': TrainerEventArgs;
  /** What the trainer wrote to stderr (`ae-studio --verbose` shows it). */ stderr: [string];
};

export class TrainerSupervisor extends EventEmitter<SupervisorEvents> {
  private child: TrainerChild | undefined;
  private current: TrainerState = { state: 'stopped', starts: 0, at: Date.now() };
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private readyWaiters: Array<{ resolve: (i: BackendInfo) => void; reject: (e: Error) => void }> = [];
  private stderrTail: string[] = [];
  private fatalMessage: string | undefined;
  private readonly readyTimeoutMs: number;
  private readonly requestTimeoutMs: number;

  constructor(private readonly config: SupervisorConfig) {
    super();
    this.readyTimeoutMs = config.readyTimeoutMs ?? 60_000;
    this.requestTimeoutMs = config.requestTimeoutMs ?? 30_000;
  }

  get state(): TrainerState {
    return this.current;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the trainer if it is not running; resolves with its backend once it is ready. */
  start(): Promise<BackendInfo> {
    if (this.current.state === 'ready' && this.current.info) return Promise.resolve(this.current.info);
    const waiter = new Promise<BackendInfo>((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
    if (this.current.state !== 'starting') this.launch();
    return waiter;
  }

  /** Stops the current trainer (if any) and starts a fresh one. */
  async restart(): Promise<BackendInfo> {
    await this.stop();
    return this.start();
  }

  /** Asks the trainer to exit; kills it if it does not within `graceMs`. */
  async stop(graceMs = 2_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    const exited = new Promise<void>((resolve) => child.onExit(() => resolve()));
    child.send({ type: 'shutdown' });
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    this.failAll(new TrainerError('trainer_unavailable', 'The trainer was stopped.'));
    this.setState({ state: 'stopped', starts: this.current.starts, at: Date.now() });
  }

  /** Sends a typed request; starts the trainer first if it is not running (e.g. after a crash). */
  async request<M extends MethodName>(
    method: M,
    params: MethodInput<M>,
    timeoutMs = this.requestTimeoutMs,
  ): Promise<MethodResult<M>> {
    await this.start();
    const child = this.child;
    if (!child) throw new TrainerError('trainer_unavailable', 'The trainer is not running.');
    const id = this.nextId++;
    const raw = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new TrainerError(
            'timeout',
            `The trainer did not answer '${method}' within ${Math.round(timeoutMs / 1000)} s.`,
          ),
        );
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      child.send({ type: 'request', id, method, params });
    });
    return methods[method].result.parse(raw) as MethodResult<M>;
  }

  /** Sends anything, unvalidated: for tests that prove the trainer survives malformed messages. */
  sendRaw(message: unknown): void {
    this.child?.send(message);
  }

  private launch(): void {
    this.stderrTail = [];
    this.fatalMessage = undefined;
    let child: TrainerChild;
    try {
      child = this.config.spawn();
    } catch (err) {
      this.crash(`The trainer process could not be started: ${(err as Error).message}`);
      return;
    }
    this.child = child;
    this.setState({ state: 'starting', starts: this.current.starts + 1, at: Date.now() });
    const readyTimer = setTimeout(() => {
      if (this.child === child && this.current.state === 'starting') {
        child.kill('SIGKILL');
        this.crash(`The trainer did not become ready within ${Math.round(this.readyTimeoutMs / 1000)} s.`);
      }
    }, this.readyTimeoutMs);
    child.onStderr((chunk) => {
      this.emit('stderr', chunk);
      for (const line of chunk.split('\n')) if (line.trim()) this.stderrTail.push(line.trim());
      if (this.stderrTail.length > 20) this.stderrTail.splice(0, this.stderrTail.length - 20);
    });
    child.onMessage((m) => {
      if (this.child === child) this.onChildMessage(m as TrainerToHost);
    });
    child.onExit((code, signal) => {
      clearTimeout(readyTimer);
      if (this.child !== child) return; // a stop() we asked for
      this.child = undefined;
      this.crash(this.describeExit(code, signal));
    });
  }

  private onChildMessage(msg: TrainerToHost): void {
    switch (msg?.type) {
      case 'ready': {
        this.setState({ state: 'ready', info: msg.info, starts: this.current.starts, at: Date.now() });
        for (const w of this.readyWaiters.splice(0)) w.resolve(msg.info);
        return;
      }
      case 'response': {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        clearTimeout(p.timer);
        if (msg.ok) p.resolve(msg.result);
        else {
          const c = msg.error.code;
          p.reject(
            new TrainerError(
              c === 'disk_full' || c === 'not_found' || c === 'internal' ? c : 'failed',
              msg.error.message,
            ),
          );
        }
        return;
      }
      case 'event': {
        // Checked like the trainer checks requests: a malformed event is reported, never acted on.
        const schema = (trainerEvents as Record<string, z.ZodType>)[msg.name];
        const parsed = schema?.safeParse(msg.payload);
        if (!parsed?.success) {
          const why = parsed
            ? `${parsed.error.issues[0]?.path.join('.') || 'payload'}: ${parsed.error.issues[0]?.message}`
            : 'unknown event';
          this.emit('protocol-error', `malformed trainer event '${String(msg.name)}' ignored (${why})`);
          return;
        }
        this.emit('trainer-event', ...([msg.name, parsed.data] as TrainerEventArgs));
        return;
      }
      case 'protocol-error':
        this.emit('protocol-error', msg.message);
        return;
      case 'fatal':
        this.fatalMessage = msg.message;
        return;
      default:
        this.emit('protocol-error', 'the trainer sent an unknown message');
    }
  }

  private describeExit(code: number | null, signal: string | null): string {
    if (this.fatalMessage) return this.fatalMessage;
    const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
    const tail = this.stderrTail
      .filter((l) => !/^(WARNING: All log messages|I0000)/.test(l))
      .slice(-2)
      .join(' ');
    return `The trainer process ${how}${tail ? `: ${tail}` : ''}. Any running job was stopped; the studio and your workspace are fine. Restart the trainer to continue.`;
  }

  private crash(reason: string): void {
    const err = new TrainerError('trainer_unavailable', reason);
    this.failAll(err);
    for (const w of this.readyWaiters.splice(0)) w.reject(err);
    this.setState({ state: 'crashed', error: reason, starts: this.current.starts, at: Date.now() });
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }

  private setState(s: TrainerState): void {
    this.current = s;
    this.emit('state', s);
  }
}
