// Test data: random bytes (node:crypto, fast enough for GiBs), SHA-256 of buffers and
// files, and writing many small files the way an unpacking tool would (a few at a time).
import { createHash, randomFillSync } from 'node:crypto';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MiB } from './sizes.ts';

export function randomBuffer(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let o = 0; o < n; o += 64 * MiB) randomFillSync(b, o, Math.min(64 * MiB, n - o));
  return b;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const READ = 8 * MiB;

/** SHA-256 of a file, read in 8 MiB pieces (no stream overhead, bounded memory). */
export async function sha256File(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(READ);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, READ, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
    }
    return h.digest('hex');
  } finally {
    await fh.close();
  }
}

export interface Expected {
  size: number;
  sha256: string;
}

/** rel -> content for n files of size bytes spread over dirs folders ("d07/f00123.bin"). */
export function makeFileSet(prefix: string, n: number, dirs: number, size: number): Map<string, Buffer> {
  const all = randomBuffer(n * size);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < n; i++) {
    const d = String(i % dirs).padStart(2, '0');
    out.set(`${prefix}d${d}/f${String(i).padStart(5, '0')}.bin`, all.subarray(i * size, (i + 1) * size));
  }
  return out;
}

export function expectations(files: Map<string, Buffer>): Map<string, Expected> {
  return new Map([...files].map(([rel, b]) => [rel, { size: b.length, sha256: sha256(b) }]));
}

/** Write the files under root, creating folders first, `concurrency` writes at a time. */
export async function writeFileSet(root: string, files: Map<string, Buffer>, concurrency = 8): Promise<void> {
  const dirs = new Set([...files.keys()].map((rel) => dirname(join(root, rel))));
  for (const d of dirs) await mkdir(d, { recursive: true });
  const items = [...files];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const [rel, data] = items[next++]!;
      await writeFile(join(root, rel), data);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
