import type { NodeInfo, Path, SourcePosition } from './yaml11.js';
import { pathToString } from './yaml11.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  file: string;
  line: number;
  col: number;
  /** Dotted path of the field (`vllm.serve_args`, `lm_eval.tasks[0].name`); `''` for the file. */
  path: string;
  message: string;
}

export function formatDiagnostic(diagnostic: Diagnostic): string {
  const where = `${diagnostic.file}:${diagnostic.line}:${diagnostic.col}`;
  return diagnostic.severity === 'warning'
    ? `${where}: warning: ${diagnostic.message}`
    : `${where}: ${diagnostic.message}`;
}

interface Ranked extends Diagnostic {
  rank: readonly number[];
  segments: Path;
}

function compareRank(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Collects diagnostics with positions. `rank` orders errors the way upstream validates (its first
 * error must be our first error); ties are broken by source position.
 */
export class DiagnosticCollector {
  private readonly items: Ranked[] = [];

  constructor(
    readonly file: string,
    private readonly nodes: Map<string, NodeInfo>,
  ) {}

  position(path: Path, atKey = false): SourcePosition {
    for (let depth = path.length; depth >= 0; depth--) {
      const info = this.nodes.get(pathToString(path.slice(0, depth)));
      if (!info) continue;
      // A missing field is reported at its parent's key (the line that opens the block).
      if (depth < path.length) return info.key ?? info.value;
      return atKey && info.key ? info.key : info.value;
    }
    return { line: 1, col: 1 };
  }

  isNonStringKey(path: Path): boolean {
    return this.nodes.get(pathToString(path))?.nonStringKey === true;
  }

  sourceOf(path: Path): string | undefined {
    return this.nodes.get(pathToString(path))?.source;
  }

  error(path: Path, message: string, rank: readonly number[], atKey = false): void {
    this.push('error', path, message, rank, atKey);
  }

  warn(path: Path, message: string, atKey = false): void {
    this.push('warning', path, message, [0], atKey);
  }

  private push(
    severity: Severity,
    path: Path,
    message: string,
    rank: readonly number[],
    atKey: boolean,
  ): void {
    const { line, col } = this.position(path, atKey);
    this.items.push({
      severity,
      file: this.file,
      line,
      col,
      path: pathToString(path),
      message,
      rank,
      segments: path,
    });
  }

  /** True when an error is already reported at `path`, inside it, or at one of its ancestors. */
  covers(path: Path): boolean {
    return this.items.some((item) => {
      if (item.severity !== 'error') return false;
      const shorter = item.segments.length <= path.length ? item.segments : path;
      const longer = shorter === item.segments ? path : item.segments;
      return shorter.every((segment, i) => longer[i] === segment);
    });
  }

  get errorCount(): number {
    return this.items.filter((item) => item.severity === 'error').length;
  }

  sorted(severity: Severity): Diagnostic[] {
    return this.items
      .filter((item) => item.severity === severity)
      .sort((a, b) => compareRank(a.rank, b.rank) || a.line - b.line || a.col - b.col)
      .map(({ severity: kind, file, line, col, path, message }) => ({
        severity: kind,
        file,
        line,
        col,
        path,
        message,
      }));
  }
}

function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = dp[0] as number;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = dp[j] as number;
      dp[j] = Math.min(
        (dp[j] as number) + 1,
        (dp[j - 1] as number) + 1,
        previous + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      previous = current;
    }
  }
  return dp[b.length] as number;
}

/** Closest candidates by edit distance (case-insensitive), for "did you mean" hints. */
export function closestMatches(word: string, candidates: Iterable<string>, max = 3): string[] {
  const lower = word.toLowerCase();
  const limit = Math.max(2, Math.floor(word.length / 3));
  return [...candidates]
    .map((candidate) => ({ candidate, distance: levenshtein(lower, candidate.toLowerCase()) }))
    .filter(
      ({ candidate, distance }) =>
        distance <= limit ||
        candidate.toLowerCase().startsWith(lower) ||
        lower.startsWith(candidate.toLowerCase()),
    )
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, max)
    .map(({ candidate }) => candidate);
}

export function didYouMean(word: string, candidates: Iterable<string>): string {
  const [best] = closestMatches(word, candidates, 1);
  return best ? ` (did you mean '${best}'?)` : '';
}
