// Step timing for the cluster tests: RESONATE_TRACE_STEPS=1 prints each step's start with
// the time since the test began (where does a slow run spend its time?).
const on = () => process.env.RESONATE_TRACE_STEPS === '1';

export function stepper(name: string): (step: string) => void {
  const t0 = Date.now();
  return (step) => {
    if (on()) process.stderr.write(`[${name} +${((Date.now() - t0) / 1000).toFixed(1)}s] ${step}\n`);
  };
}
