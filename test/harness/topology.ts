// Which nodes of a test cluster are linked, and which links a partition cuts. Pure
// functions, so the partition logic is tested without starting any process.
import { HarnessError } from './errors.ts';

export type Topology = 'mesh' | 'line';

/** An undirected link between nodes i < j. */
export type Edge = readonly [number, number];

export function topologyEdges(n: number, topology: Topology): Edge[] {
  if (!Number.isInteger(n) || n < 1)
    throw new HarnessError(`cluster size must be a positive integer, got ${n}`);
  const edges: Edge[] = [];
  if (topology === 'line') {
    for (let i = 0; i + 1 < n; i++) edges.push([i, i + 1]);
  } else {
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) edges.push([i, j]);
  }
  return edges;
}

/** i, j in either order -> the key of their edge. */
export function edgeKey(i: number, j: number): string {
  return i < j ? `${i}-${j}` : `${j}-${i}`;
}

/**
 * A node -> group index map for partition(groups). Nodes named in no group form one
 * more group together, so partition([[0]]) isolates node 0 from everyone else.
 * Throws on unknown or repeated nodes.
 */
export function groupOf(n: number, groups: number[][]): number[] {
  const of = new Array<number>(n).fill(-1);
  groups.forEach((g, gi) => {
    for (const node of g) {
      if (!Number.isInteger(node) || node < 0 || node >= n) {
        throw new HarnessError(`partition: no node ${node} in a cluster of ${n}`);
      }
      if (of[node] !== -1) throw new HarnessError(`partition: node ${node} is in two groups`);
      of[node] = gi;
    }
  });
  return of.map((g) => (g === -1 ? groups.length : g));
}

/** Split edges into those a partition cuts (ends in different groups) and those it keeps. */
export function partitionEdges(n: number, edges: Edge[], groups: number[][]): { cut: Edge[]; kept: Edge[] } {
  const of = groupOf(n, groups);
  const cut: Edge[] = [];
  const kept: Edge[] = [];
  for (const e of edges) (of[e[0]] === of[e[1]] ? kept : cut).push(e);
  return { cut, kept };
}
