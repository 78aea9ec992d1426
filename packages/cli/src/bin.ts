#!/usr/bin/env node
import { processIo } from './lib/io.js';
import { run } from './lib/main.js';
import { installSignalHandlers } from './lib/signals.js';

const controller = new AbortController();
const force = installSignalHandlers(controller);
process.exitCode = await run(process.argv.slice(2), processIo(controller.signal, force));
