// Prints the functions and files with the most self time in a .cpuprofile, or the most bytes
// allocated in a .heapprofile (bench/lib/profile.ts):
//   npx tsx bench/lib/profile-summary.ts file.cpuprofile|file.heapprofile [top=40]
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  samples: number[];
  timeDeltas: number[];
}
interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}
interface HeapProfile {
  head: HeapNode;
}

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 40);
const parsed = JSON.parse(readFileSync(file!, 'utf8')) as CpuProfile | HeapProfile;

/** Each call frame with its own weight: microseconds of CPU, or bytes allocated. */
function selfWeights(p: CpuProfile | HeapProfile): [CallFrame, number][] {
  if ('head' in p) {
    const out: [CallFrame, number][] = [];
    const walk = (n: HeapNode): void => {
      if (n.selfSize > 0) out.push([n.callFrame, n.selfSize]);
      n.children.forEach(walk);
    };
    walk(p.head);
    return out;
  }
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  return [...self].map(([id, us]) => [byId.get(id)!, us]);
}

const weights = selfWeights(parsed);
const total = weights.reduce((a, [, w]) => a + w, 0);
const fnTotals = new Map<string, number>();
const fileTotals = new Map<string, number>();
const add = (m: Map<string, number>, k: string, w: number) => m.set(k, (m.get(k) ?? 0) + w);
for (const [f, w] of weights) {
  const where = f.url.replace(/^.*node_modules\//, 'nm:').replace(/^file:\/\/.*?\/(src|bench|test)\//, '$1/');
  add(fnTotals, `${f.functionName || '(anon)'} ${where}:${f.lineNumber + 1}`, w);
  const pkgDepth = where.startsWith('nm:@') ? 2 : 1;
  add(fileTotals, where.startsWith('nm:') ? where.split('/').slice(0, pkgDepth).join('/') : where || f.functionName, w);
}
const show = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .forEach(([k, w]) => console.log(`${((100 * w) / total).toFixed(1).padStart(5)}%  ${k}`));
console.log(
  'head' in parsed
    ? `total ${(total / 2 ** 20).toFixed(0)} MiB allocated (sampled)`
    : `total ${(total / 1000).toFixed(0)} ms sampled`,
);
console.log('-- by function');
show(fnTotals);
console.log('-- by file / package');
show(fileTotals);
