// What every synced pair looks like to a scenario, whichever tool keeps it in sync: two
// folders, the bytes on the wire each way, and each side's memory.
import type { MemGroup } from '../lib/rss.ts';

export interface Pair {
  readonly a: string;
  readonly b: string;
  /** One-way tools (rsync-based) only carry changes from a to b. */
  readonly twoWay: boolean;
  /** Names the tool keeps in the folders for itself: left out of watching and comparisons. */
  readonly ignored: (name: string) => boolean;
  /** Payload bytes on the wire since the last reset (wire-count.ts). */
  bytes(): { aToB: number; bToA: number };
  resetBytes(): void;
  readonly memA: MemGroup;
  readonly memB: MemGroup;
  /** Stop everything the pair started (folders are removed by the global cleanup). */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Label for logs and profile files ("propagation"). */
  scenario: string;
  /** Run our daemons under the CPU profiler, writing .cpuprofile files there. */
  profileDir?: string;
}

export interface System {
  /** Short id used on the command line and in the JSON ("syncthing"). */
  id: string;
  /** Column title ("Syncthing 1 s"). */
  label: string;
  /** Only in --full (slow rivals), or also in --quick (fast ones). */
  modes: ('quick' | 'default' | 'full')[];
  /** The tool's version, or throws why it cannot run here. */
  probe(): Promise<string>;
  start(opts: StartOptions): Promise<Pair>;
}
