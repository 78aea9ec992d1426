export { compareRuns, sortRows, VERDICTS, NOISE_DEFAULTS } from './lib/compare.js';
export type {
  Comparison,
  CompareOptions,
  Evidence,
  Method,
  NoiseModelOptions,
  Verdict,
  VerdictRow,
} from './lib/compare.js';
export { renderVerdictTable, renderVerdictMarkdown, countsLine } from './lib/render.js';
export type { RenderTableOptions, RenderMarkdownOptions } from './lib/render.js';
export {
  binomialTwoSidedHalf,
  logGamma,
  mean,
  median,
  normalTwoSidedP,
  regularizedBeta,
  regularizedGammaQ,
  robustSigma,
  sampleSd,
  tTwoSidedP,
  welchTest,
  wilsonLowerBound,
  MAD_TO_SIGMA,
  Z_ONE_SIDED_95,
} from './lib/stats.js';
export type { WelchResult } from './lib/stats.js';
export { evaluateGates, GateFailedError } from './lib/gates.js';
export type { AccuracyGate, Gates, GateResult } from './lib/gates.js';
