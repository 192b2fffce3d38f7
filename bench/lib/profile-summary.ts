// Prints the functions and files with the most self time in a .cpuprofile:
//   npx tsx bench/lib/profile-summary.ts file.cpuprofile [top=40]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file!, 'utf8')) as Profile;
const top = Number(topArg ?? 40);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const fnTotals = new Map<string, number>();
const fileTotals = new Map<string, number>();
const add = (m: Map<string, number>, k: string, us: number) => m.set(k, (m.get(k) ?? 0) + us);
for (const [id, us] of selfUs) {
  const f = byId.get(id)!.callFrame;
  const where = f.url.replace(/^.*node_modules\//, 'nm:').replace(/^file:\/\/.*?\/(src|bench|test)\//, '$1/');
  add(fnTotals, `${f.functionName || '(anon)'} ${where}:${f.lineNumber + 1}`, us);
  const pkgDepth = where.startsWith('nm:@') ? 2 : 1;
  add(
    fileTotals,
    where.startsWith('nm:') ? where.split('/').slice(0, pkgDepth).join('/') : where || f.functionName,
    us,
  );
}
const show = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .forEach(([k, us]) => console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`));
console.log(`total ${(total / 1000).toFixed(0)} ms sampled\n-- by function`);
show(fnTotals);
console.log('-- by file / package');
show(fileTotals);
