// `ae-studio`: the studio's pipelines from a terminal (dist-main/cli.cjs, package.json "bin").
//   ae-studio builtin mnist|fashion-mnist|shapes --workspace DIR [--name NAME] [--json]
//   ae-studio datasets --workspace DIR [--json]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BUILTIN_NAMES, BUILTIN_TITLES, makeBuiltin, type BuiltinName } from '../datasets/builtins';
import { listDatasets, writeDataset } from '../datasets/store';

const USAGE = `Usage:
  ae-studio builtin ${BUILTIN_NAMES.join('|')} --workspace DIR [--name NAME] [--json]
  ae-studio datasets --workspace DIR [--json]`;

class UsageError extends Error {}

export async function run(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { workspace: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    out(USAGE);
    return values.help ? 0 : 2;
  }
  if (!values.workspace) throw new UsageError('--workspace DIR is required.');
  const ws = path.resolve(values.workspace);
  if (command === 'builtin') {
    const name = rest[0] as BuiltinName;
    if (!BUILTIN_NAMES.includes(name)) throw new UsageError(`Unknown built-in dataset '${rest[0] ?? ''}'; choose one of ${BUILTIN_NAMES.join(', ')}.`);
    const m = await writeDataset(ws, values.name ?? BUILTIN_TITLES[name], makeBuiltin(name), { kind: 'builtin', builtin: name });
    out(values.json ? JSON.stringify(m) : `Added '${m.name}' (${m.id}): ${m.count} images, ${m.shape.join('×')}, labels ${m.labelNames.map((l, i) => `${l}=${m.labelCounts[i]}`).join(' ')}`);
    return 0;
  }
  if (command === 'datasets') {
    const list = listDatasets(ws);
    if (values.json) out(JSON.stringify(list));
    else if (!list.length) out(`No datasets in ${ws}.`);
    else for (const d of list) out('error' in d ? `${d.id}  ! ${d.error}` : `${d.id}  ${d.name}  ${d.count} images  ${d.shape.join('×')}`);
    return 0;
  }
  throw new UsageError(`Unknown command '${command}'.`);
}

// Run when executed (not when imported by tests).
if (require.main === module) {
  run(process.argv.slice(2), (s) => console.log(s)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`ae-studio: ${(err as Error).message}`);
      if (err instanceof UsageError) console.error(USAGE);
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
}
