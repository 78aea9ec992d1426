/**
 * Quote argv for *display* (logs, plans, copy-paste). Never used to execute anything: every
 * subprocess in perf-eval is spawned with an argv array and no shell.
 */
export function quoteArg(arg: string): string {
  if (arg === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function formatCommand(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ');
}
