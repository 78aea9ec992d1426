export { run, COMMANDS } from './lib/main.js';
export type { CommandModule } from './lib/main.js';
export { EXIT, exitCodeFor } from './lib/exit-codes.js';
export type { Io } from './lib/io.js';
