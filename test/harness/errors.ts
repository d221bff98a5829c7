// Typed errors for the harness, so a test failure says which helper gave up and why
// (and callers can tell a timeout from a crash with instanceof).

export class HarnessError extends Error {
  override name = 'HarnessError';
}

/** A polled condition did not hold in time (waitFor, waitForLine, runCli, ...). */
export class TimeoutError extends HarnessError {
  override name = 'TimeoutError';
}

/** A child process exited when the harness expected it to keep running. */
export class ProcessExitedError extends HarnessError {
  override name = 'ProcessExitedError';
}
