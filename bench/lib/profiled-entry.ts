// Runs bin/resonate.js under the V8 CPU profiler (node refuses --cpu-prof in NODE_OPTIONS,
// and the harness spawns `node ENTRY ARGS`). The profile is written when the process exits,
// to the path in RESONATE_BENCH_PROFILE. The inspector session of the main thread answers
// synchronously, so this works from an 'exit' handler.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const out = process.env.RESONATE_BENCH_PROFILE;
if (out) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  process.once('exit', () => {
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(out, JSON.stringify(res.profile));
    });
  });
}
// A computed specifier: bin/ is plain JavaScript without type declarations.
await import(new URL('../../bin/resonate.js', import.meta.url).href);
