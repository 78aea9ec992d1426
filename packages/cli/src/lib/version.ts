import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** The CLI package version (bundled builds inline package.json). */
export const VERSION: string = (require('../../package.json') as { version: string }).version;
