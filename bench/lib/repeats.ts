// A change measured several times: its median time and wire bytes as the figures, with
// every sample in the note and the JSON, so a reader sees the spread behind the median.
import { bytes, type Figure, ms } from './figures.ts';
import { percentile } from './stats.ts';
import type { StepResult } from './step.ts';

export interface Sample {
  ms: number;
  writeMs: number;
  aToB: number;
  bToA: number;
  by: StepResult['by'];
}

export function sampleOf(r: StepResult): Sample {
  return { ms: r.ms, writeMs: r.actMs, aToB: r.aToB, bToA: r.bToA, by: r.by };
}

/** Median time (nearest rank) and median wire bytes of the samples. */
export function medianFigures(samples: readonly Sample[]): { time: Figure; bytes: Figure } {
  const times = samples.map((s) => s.ms);
  const polled = samples.some((s) => s.by === 'poll');
  const notes: string[] = [];
  if (samples.length > 1)
    notes.push(`median of ${samples.length}: ${times.map((t) => Math.round(t)).join(', ')} ms`);
  if (polled) notes.push('seen by the fallback poll');
  return {
    time: ms(percentile(times, 50), notes.join('; ') || undefined),
    bytes: bytes(
      percentile(
        samples.map((s) => s.aToB + s.bToA),
        50,
      ),
    ),
  };
}
