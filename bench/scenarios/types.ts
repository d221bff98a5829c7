// A scenario: either run against a fresh pair of each system (propagation, files, ...) or
// once on its own (scan, physical reference), producing named figures.
import type { Figures, SystemResult } from '../lib/figures.ts';
import type { Sizes } from '../lib/sizes.ts';
import type { Pair } from '../rivals/types.ts';

export interface Ctx {
  sizes: Sizes;
  /** Progress lines on stderr. */
  log: (msg: string) => void;
}

export interface PairScenario {
  kind: 'pair';
  id: string;
  title: string;
  /** Figures that need changes to flow b -> a are left out for one-way tools (shown as n/a). */
  run(pair: Pair, ctx: Ctx): Promise<{ figures: Figures; detail?: Record<string, unknown> }>;
}

export interface SoloScenario {
  kind: 'solo';
  id: string;
  title: string;
  run(ctx: Ctx & { profileDir?: string }): Promise<SystemResult>;
}

export type Scenario = PairScenario | SoloScenario;
