// The folder marker on a real disk: DIR/.resonate/folder. Its disappearance means the
// folder was unmounted or replaced, and the node then refuses to send deletions.
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { STATE_DIR } from '../fs/paths.ts';
import type { FolderMarker } from '../node/marker-guard.ts';

export function diskMarker(dir: string): FolderMarker {
  const stateDir = join(dir, STATE_DIR);
  const file = join(stateDir, 'folder');
  return {
    async present() {
      try {
        return lstatSync(file).isFile();
      } catch {
        return false;
      }
    },
    async create(nodeId) {
      mkdirSync(stateDir, { recursive: true });
      const tmp = `${file}.tmp`;
      const fd = openSync(tmp, 'w', 0o644);
      try {
        writeSync(fd, `resonate folder of node ${nodeId}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
    },
  };
}
