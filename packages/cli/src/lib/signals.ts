import { InterruptedError } from '@perf-eval/util';

export function interruptionOf(signal: AbortSignal): InterruptedError | undefined {
  return signal.reason instanceof InterruptedError ? signal.reason : undefined;
}

/**
 * First SIGINT/SIGTERM/SIGHUP aborts the shared controller (every subprocess, HTTP request and wait
 * watches it) so cleanup can run. A second signal aborts the returned force signal: teardown stops
 * waiting for a graceful shutdown and kills the server at once (SIGKILL / `docker kill`). The process
 * never exits from a signal handler, so teardown always completes and no server is orphaned.
 */
export function installSignalHandlers(controller: AbortController): AbortSignal {
  const force = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      process.stderr.write(
        `perf-eval: received ${signal}; stopping (send again to kill the server without waiting)\n`,
      );
      controller.abort(new InterruptedError(signal));
    } else if (!force.signal.aborted) {
      process.stderr.write(`perf-eval: second ${signal}; killing the server now, then exiting\n`);
      force.abort(new InterruptedError(signal));
    } else {
      process.stderr.write(`perf-eval: ${signal} again; still tearing down (the server is being killed)\n`);
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  return force.signal;
}
