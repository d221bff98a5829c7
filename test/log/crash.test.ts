import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Level } from 'level';
import { Store } from '../../src/log/store.ts';
import type { Db } from '../../src/log/store-db.ts';

const fixture = fileURLToPath(new URL('./fixtures/appender.ts', import.meta.url));

test('kill -9 loses no acknowledged operation', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'resonate-crash-'));
  try {
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let acked = 0;
      let origin = '';
      const target = 30 + round * 40 + Math.floor(Math.random() * 40);
      await new Promise<void>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
            const [, n, o] = buf.slice(0, i).split(' ');
            buf = buf.slice(i + 1);
            acked = Number(n);
            origin = o!;
            if (acked >= target) child.kill('SIGKILL');
          }
        });
        child.on('exit', () => resolve());
        child.on('error', reject);
      });
      const store = await Store.open(
        new Level<string, Uint8Array>(dir, { valueEncoding: 'view' }) as unknown as Db,
        {
          random: randomBytes,
        },
      );
      assert.ok(
        store.held(origin) >= acked,
        `log holds ${store.held(origin)} but ${acked} were acknowledged`,
      );
      for (let s = 1; s <= acked; s++) assert.equal(store.getOp({ origin, seq: s })?.op.path, `f${s}`);
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
