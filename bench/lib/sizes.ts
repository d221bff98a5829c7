// How big each scenario is per mode. The default and full modes use the sizes the targets
// are defined for; quick mode shrinks them so the whole run stays under two minutes.
import type { Mode } from './options.ts';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

export interface Sizes {
  /** 1 KiB propagation samples per direction. */
  samples: number;
  /** Stop sampling a direction after this long (slow rivals), once 5 samples are in. */
  sampleBudgetMs: number;
  files: number;
  fileDirs: number;
  fileSize: number;
  big: number;
  overwrite: number;
  renameFiles: number;
  /**
   * Times the folder rename and each edit of the large file are repeated: the targets are
   * medians, and one sample of a sub-second figure on a shared VM is mostly its noise.
   */
  repeats: number;
  deletes: number;
  scanFiles: number;
  scanFilesPerDir: number;
  scanFileSize: number;
  scanBig: number;
  /** Give up on one change after this long (quick runs must stay short). */
  stepTimeoutMs: number;
}

const FULL: Sizes = {
  samples: 50,
  sampleBudgetMs: 90_000,
  files: 5000,
  fileDirs: 50,
  fileSize: 4 * KiB,
  big: 512 * MiB,
  overwrite: 1 * MiB,
  renameFiles: 1000,
  repeats: 3,
  deletes: 5,
  scanFiles: 100_000,
  scanFilesPerDir: 100,
  scanFileSize: 1 * KiB,
  scanBig: 2 * GiB,
  stepTimeoutMs: 300_000,
};

const QUICK: Sizes = {
  samples: 20,
  sampleBudgetMs: 15_000,
  files: 1000,
  fileDirs: 10,
  fileSize: 4 * KiB,
  big: 128 * MiB,
  overwrite: 1 * MiB,
  renameFiles: 500,
  repeats: 1,
  deletes: 3,
  scanFiles: 10_000,
  scanFilesPerDir: 100,
  scanFileSize: 1 * KiB,
  scanBig: 512 * MiB,
  stepTimeoutMs: 30_000,
};

export function sizesFor(mode: Mode): Sizes {
  return mode === 'quick' ? QUICK : FULL;
}

/** The sizes the targets are stated for (a target is only judged at these sizes). */
export const TARGET_SIZES = FULL;
