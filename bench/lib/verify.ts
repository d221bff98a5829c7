// The final, untimed proof that both folders hold the same thing: a full snapshot of each
// (every file hashed), the tools' own bookkeeping names left out, content compared.
import { diffTrees, snapshotTree } from '../../test/harness/tree.ts';
import type { Pair } from '../rivals/types.ts';

const OWN_NAMES =
  /(^|\/)(\.resonate|\.resonate-tmp-[^/]*|\.stfolder|\.stversions|\.syncthing\.[^/]*|\.unison\.[^/]*|\.#[^/]*)$/;

/** Differences between the two folders (empty = identical content), at most 10 lines. */
export async function differences(pair: Pair): Promise<string[]> {
  const opts = { ignore: [OWN_NAMES] };
  const [ta, tb] = await Promise.all([snapshotTree(pair.a, opts), snapshotTree(pair.b, opts)]);
  return diffTrees(ta, tb, { modeMask: 0, names: ['a', 'b'] }).slice(0, 10);
}

/** Throws if the folders differ. */
export async function assertSame(pair: Pair, what: string): Promise<void> {
  const d = await differences(pair);
  if (d.length) throw new Error(`${what}: folders differ after convergence:\n${d.join('\n')}`);
}
