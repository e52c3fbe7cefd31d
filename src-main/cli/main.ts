// `ae-studio`: the studio's pipelines from a terminal (dist-main/cli.cjs, package.json "bin").
//   ae-studio builtin mnist|fashion-mnist|shapes --workspace DIR [--name NAME] [--json]
//   ae-studio import PATH… --workspace DIR --name NAME [--size N] [--mode grayscale|rgb] [--fit stretch|crop|pad] [--json]
//   ae-studio datasets --workspace DIR [--json]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BUILTIN_NAMES, BUILTIN_TITLES, makeBuiltin, type BuiltinName } from '../datasets/builtins';
import { listDatasets, writeDataset } from '../datasets/store';
import { importPaths } from '../datasets/import';

const USAGE = `Usage:
  ae-studio import PATH... --workspace DIR --name NAME [--size N] [--mode grayscale|rgb] [--fit stretch|crop|pad] [--json]
  ae-studio builtin ${BUILTIN_NAMES.join('|')} --workspace DIR [--name NAME] [--json]
  ae-studio datasets --workspace DIR [--json]`;

class UsageError extends Error {}

export async function run(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      workspace: { type: 'string' },
      name: { type: 'string' },
      size: { type: 'string', default: '28' },
      mode: { type: 'string', default: 'grayscale' },
      fit: { type: 'string', default: 'stretch' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
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
  if (command === 'import') {
    if (!rest.length) throw new UsageError('Give at least one folder, image file or zip to import.');
    if (!values.name) throw new UsageError('--name NAME is required.');
    const size = Number(values.size);
    if (!Number.isInteger(size) || size < 4 || size > 512) throw new UsageError('--size must be a whole number from 4 to 512.');
    if (values.mode !== 'grayscale' && values.mode !== 'rgb') throw new UsageError('--mode must be grayscale or rgb.');
    if (!['stretch', 'crop', 'pad'].includes(values.fit as string)) throw new UsageError('--fit must be stretch, crop or pad.');
    const { dataset, report } = await importPaths(rest, { size, mode: values.mode, fit: values.fit as 'stretch' | 'crop' | 'pad' });
    if (report.imported === 0) {
      out(values.json ? JSON.stringify({ ...report, dataset: null }) : `Nothing imported; ${report.skipped.length} files skipped:\n${report.skipped.map((s) => `  ${s.file}: ${s.reason}`).join('\n')}`);
      return 1;
    }
    const m = await writeDataset(ws, values.name, dataset, { kind: 'import', paths: rest.map((p) => path.resolve(p)) }, { options: { size, mode: values.mode, fit: values.fit as string, validationSplit: 0.1, seed: 42 }, report });
    if (values.json) out(JSON.stringify({ dataset: m.id, ...report }));
    else {
      out(`Imported ${report.imported} images into '${m.name}' (${m.id}), ${size}×${size} ${values.mode}; labels: ${Object.entries(report.labelCounts).map(([l, c]) => `${l || '(none)'}=${c}`).join(' ')}`);
      if (report.skipped.length) out(`Skipped ${report.skipped.length}:\n${report.skipped.map((s) => `  ${s.file}: ${s.reason}`).join('\n')}`);
    }
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
