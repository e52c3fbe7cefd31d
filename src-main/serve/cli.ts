// `npm run serve`: the studio without a window. Prints the address (with its token) to open in a
// browser. Loopback only unless `--host ADDR` says otherwise.
//   node dist-main/serve.cjs [--port N] [--host ADDR] [--token T]
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createHost } from '../host';
import { TrainerSupervisor, forkSpawner } from '../trainer/supervisor';
import { isLoopback, startServeServer } from './server';
import pkg from '../../package.json';

/** Where serve mode keeps datasets and runs unless --workspace says otherwise. */
function defaultWorkspace(): string {
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'autoencoder-studio', 'workspace');
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.AE_PORT ?? '0' },
      host: { type: 'string', default: '127.0.0.1' },
      token: { type: 'string' },
      workspace: { type: 'string', default: process.env.AE_WORKSPACE ?? defaultWorkspace() },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'Usage: npm run serve -- [--port N] [--host ADDR] [--token TOKEN] [--workspace DIR]\n  --host 0.0.0.0 exposes the studio to your network (token still required).',
    );
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0..65535, got '${values.port}'`);
  if (values.token !== undefined && values.token.length < 16) throw new Error('--token must be at least 16 characters');

  const trainer = new TrainerSupervisor({ spawn: forkSpawner(path.join(__dirname, 'trainer.cjs')) });
  const host = createHost({
    mode: 'serve',
    version: pkg.version,
    trainer,
    workspaceDir: path.resolve(values.workspace),
  });
  trainer.on('state', (s) => {
    if (s.state === 'ready' && s.info)
      console.log(
        `trainer ready: ${s.info.backend} · TensorFlow ${s.info.tfVersion} · ${s.info.threads} threads · pid ${s.info.pid}`,
      );
    if (s.state === 'crashed') console.error(`trainer crashed: ${s.error}`);
  });
  trainer.start().catch(() => undefined); // failures are reported through the state event
  const server = await startServeServer({
    host,
    staticDir: path.join(__dirname, '..', 'dist-renderer'),
    port,
    bindAddress: values.host,
    token: values.token,
  });
  if (!isLoopback(values.host)) {
    console.warn(
      `WARNING: listening on ${values.host}, not only on this machine. Anyone who has the token can use the studio.`,
    );
  }
  console.log(`Autoencoder Studio ${pkg.version} (serve mode)`);
  console.log(`Workspace: ${path.resolve(values.workspace)}`);
  console.log(`Open: ${server.url}`);

  const shutdown = async () => {
    await server.close();
    await host.dispose();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err) => {
  console.error(`serve: ${(err as Error).message}`);
  process.exit(1);
});
