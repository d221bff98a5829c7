// Records as the store writes them. A stored head or index entry names a small file's
// content by its hashes only: the inline bytes live once, in the operation that wrote them
// (storing them three times made a 100,000 x 1 KiB folder's log 371 MiB, and LevelDB's
// table files are mapped into the daemon's RSS).
import { encodeFileEntry, encodeHead, encodeOperation } from '../proto/codec.ts';
import type { Content, FileEntry, Head, Operation, Version } from '../proto/types.ts';
import { sealRecord } from './record.ts';

const NO_BYTES = new Uint8Array(0);

function hashedOnly(c: Content | null): Content | null {
  return c && c.inlineData.length > 0 ? { ...c, inlineData: NO_BYTES } : c;
}

const hasInline = (v: Version) => (v.content?.inlineData.length ?? 0) > 0;

export const encodeStored = {
  op: (op: Operation) => encodeOperation(op),
  head: (h: Head) =>
    sealRecord(
      encodeHead(
        h.versions.some(hasInline)
          ? { ...h, versions: h.versions.map((v) => ({ ...v, content: hashedOnly(v.content) })) }
          : h,
      ),
    ),
  file: (f: FileEntry) => sealRecord(encodeFileEntry({ ...f, content: hashedOnly(f.content) })),
};
