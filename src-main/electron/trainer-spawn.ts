// The trainer as an Electron utility process (packaged app): same entry.ts, talking over
// process.parentPort (see trainer/port.ts). child_process.fork would need the RunAsNode fuse.
import { utilityProcess } from 'electron';
import type { SpawnTrainer } from '../trainer/supervisor';
import { trainerEnv } from '../trainer/supervisor';
import { trainerForkArgs } from './decisions';

export function utilitySpawner(entry: string): SpawnTrainer {
  return () => {
    const { args, options } = trainerForkArgs(trainerEnv());
    const child = utilityProcess.fork(entry, args, options);
    return {
      get pid() {
        return child.pid;
      },
      send: (m) => child.postMessage(m),
      kill: () => void child.kill(),
      onMessage: (l) => child.on('message', l),
      // utilityProcess reports only an exit code; a crash shows as a non-zero code.
      onExit: (l) => child.on('exit', (code) => l(code, null)),
      onStderr: (l) => child.stderr?.on('data', (d: Buffer) => l(d.toString())),
    };
  };
}
