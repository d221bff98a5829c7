// Path material for the fuzzer: names a peer must never get onto the disk (traversal,
// absolute, reserved, overlong, control characters, non-NFC, ...) and odd names that are
// perfectly valid and must work. Every escape attempt carries ESCAPE_TOKEN in its name.
import type { Rng } from '../harness/prng.ts';
import { ESCAPE_TOKEN } from './ops.ts';

const T = ESCAPE_TOKEN;

/** Paths src/fs/paths.ts must refuse (each for its own reason). */
export function refusedPaths(canary: string): string[] {
  return [
    `../${T}`,
    `../../${T}`,
    `a/../../${T}`,
    `a/./${T}`,
    `./${T}`,
    '..',
    '.',
    '',
    '/',
    `/etc/${T}`,
    `/tmp/${T}`,
    `${canary}/${T}`,
    `//${T}`,
    `a//${T}`,
    `${T}/`,
    `a/${T}/`,
    `${T}\0.txt`,
    `a/\0/${T}`,
    `${T}\x01`,
    `${T}\n`,
    `${T}\r`,
    `${T}\x7f`,
    `${T}\u0085`,
    `${T}\u009b`,
    `..\\${T}`,
    `a\\..\\..\\${T}`,
    `C:${T}`,
    `c:/${T}`,
    `e\u0301${T}`, // "é" decomposed: not NFC
    `A\u030a${T}`,
    `\u1100\u1161${T}`, // Hangul jamo that compose
    `${T}\ufffd`,
    `${T}\ud800`, // a lone surrogate: protobufjs writes invalid UTF-8, the frame is refused
    '.resonate',
    '.resonate/log/CURRENT',
    `.resonate/${T}`,
    `.resonate-tmp-${T}`,
    `a/.resonate-tmp-${T}`,
    '.resonate-tmp-',
    `${'n'.repeat(256)}${T}`,
    `${'é'.repeat(128)}`, // 256 bytes in UTF-8
    `${'d/'.repeat(2048)}${T}`, // longer than 4096 bytes
    `${'x'.repeat(4097)}`,
  ];
}

/**
 * The refused paths that survive encoding: a lone surrogate becomes invalid UTF-8, which
 * makes the whole frame undecodable (the daemon drops the link). Inputs meant to be
 * harmless use these.
 */
export function encodableRefusedPaths(canary: string): string[] {
  return refusedPaths(canary).filter((p) => !/[\ud800-\udfff]/.test(p));
}

/** Valid, if odd, names: they must sync like any other. */
export const ODD_NAMES = [
  'plain.txt',
  'with space.txt',
  ' leading-space',
  'trailing-space ',
  '.hidden',
  '..dots',
  '...',
  'dots..',
  '-dash',
  '~tilde',
  '%2e%2e',
  '$HOME',
  '`cmd`',
  "quote'",
  'dq"',
  'star*',
  'q?',
  'colon:x',
  'pipe|x',
  '<lt>',
  'é.txt',
  '日本語',
  '🎵',
  '\u2024\u2024', // one-dot leaders, not dots
  '\uff0e\uff0e', // fullwidth full stops
  '.resonate-tmp', // the temp prefix without its dash
  '.resonatex',
  '.resonateignore.bak',
  'x.conflict-node-20200101-000000.txt',
  'CON',
  'nul',
  'a'.repeat(255),
  'é'.repeat(127),
];

export function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(0, xs.length - 1)]!;
}

/** A valid path from a small pool, so that operations meet on the same names. */
export function poolPath(rng: Rng): string {
  const depth = rng.int(1, 3);
  const parts: string[] = [];
  for (let i = 0; i < depth; i++) parts.push(pick(rng, ['a', 'b', 'c', 'l0', 'l1', 'd', 'x.txt', 'y.bin']));
  return parts.join('/');
}

/** A valid path with odd names, sometimes deep. */
export function oddPath(rng: Rng): string {
  const r = rng.float();
  if (r < 0.1) {
    // Deep but within 4096 bytes.
    const depth = rng.int(10, 60);
    return Array.from({ length: depth }, (_, i) => `d${i}`).join('/');
  }
  const depth = rng.int(1, 3);
  const parts: string[] = [];
  for (let i = 0; i < depth; i++) parts.push(pick(rng, ODD_NAMES));
  // Nested below an odd name: 'x/.resonate' is fine anywhere but the root.
  if (rng.float() < 0.1) parts.push('.resonate');
  return parts.join('/');
}

/** Symlink targets that point out of the folder (storing them is fine; following them is not). */
export function escapeTargets(canary: string): string[] {
  return [canary, `${canary}/`, '../canary', '../../canary', '..', '../..', '/', '/etc', '/tmp', '.', '../'];
}
