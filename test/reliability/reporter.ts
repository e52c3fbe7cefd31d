// Prints the reliability table after the run: faults tried / survived, hostile inputs tried /
// refused cleanly, security checks, data lost (must be 0). Also written to
// test-results/reliability/report.md.
import fs from 'node:fs';
import path from 'node:path';
import type { Reporter } from 'vitest/node';
import { RESULTS_DIR, RESULTS_FILE, type Outcome } from './record';

const HEAD: Record<Outcome['category'], [string, string]> = {
  fault: ['Faults', 'survived'],
  hostile: ['Hostile input', 'refused cleanly'],
  security: ['Security checks', 'passed'],
};

export function renderTable(outcomes: Outcome[]): string {
  const rows: string[][] = [['category', 'item', 'tried', 'survived / refused', 'data lost']];
  const totals = new Map<string, { tried: number; ok: number; lost: number }>();
  for (const cat of ['fault', 'hostile', 'security'] as const) {
    for (const o of outcomes.filter((x) => x.category === cat)) {
      rows.push([
        HEAD[cat][0],
        o.item + (o.note ? ` (${o.note})` : ''),
        String(o.tried),
        String(o.ok),
        String(o.dataLost),
      ]);
      const t = totals.get(cat) ?? { tried: 0, ok: 0, lost: 0 };
      t.tried += o.tried;
      t.ok += o.ok;
      t.lost += o.dataLost;
      totals.set(cat, t);
    }
  }
  const width = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (i >= 2 ? c.padStart(width[i]) : c.padEnd(width[i]))).join(' | ')} |`;
  const sep = `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  const out = [line(rows[0]), sep, ...rows.slice(1).map(line), ''];
  let lost = 0;
  for (const cat of ['fault', 'hostile', 'security'] as const) {
    const t = totals.get(cat);
    if (!t) continue;
    lost += t.lost;
    out.push(
      `${HEAD[cat][0]}: ${t.tried} tried, ${t.ok} ${HEAD[cat][1]}${t.ok === t.tried ? '' : `, ${t.tried - t.ok} NOT`}.`,
    );
  }
  out.push(`Data lost: ${lost}${lost === 0 ? '' : '  <-- MUST BE 0'}.`);
  return out.join('\n');
}

export default class ReliabilityReporter implements Reporter {
  onTestRunEnd(): void {
    let outcomes: Outcome[] = [];
    try {
      outcomes = fs
        .readFileSync(RESULTS_FILE, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Outcome);
    } catch {
      // no results: say so below
    }
    const table = outcomes.length ? renderTable(outcomes) : 'No reliability results were recorded.';
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    fs.writeFileSync(path.join(RESULTS_DIR, 'report.md'), `# Reliability report\n\n${table}\n`);
    process.stdout.write(`\nReliability report (test-results/reliability/report.md)\n\n${table}\n\n`);
  }
}
