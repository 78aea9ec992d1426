import { PerfEvalError } from '@perf-eval/util';

/** The run was interrupted by a signal; `code` selects exit 130 (SIGINT) or 143 (SIGTERM/SIGHUP). */
export class InterruptedError extends PerfEvalError {
  constructor(readonly signalName: NodeJS.Signals) {
    super(signalName === 'SIGINT' ? 'E_INTERRUPTED' : 'E_TERMINATED', `perf-eval: received ${signalName}; stopped`);
  }
}

export function interruptionOf(signal: AbortSignal): InterruptedError | undefined {
  return signal.reason instanceof InterruptedError ? signal.reason : undefined;
}

/**
 * First SIGINT/SIGTERM/SIGHUP aborts the shared controller (every subprocess, HTTP request and wait
 * watches it) so cleanup can run; a second signal exits at once.
 */
export function installSignalHandlers(controller: AbortController): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      process.stderr.write(`perf-eval: second ${signal}; exiting now\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    process.stderr.write(`perf-eval: received ${signal}; stopping (send again to exit immediately)\n`);
    controller.abort(new InterruptedError(signal));
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
}
