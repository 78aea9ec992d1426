import type { ToolRunContext } from '@perf-eval/util';
import { bfclScoreFile, isBfclGroup, scoredSubcategories } from './categories.js';
import { BfclNoScoreError } from './errors.js';
import { readScoreSummary } from './parse.js';

/** One scored category. For a group total, the counts are absent (the total is an unweighted mean). */
export interface BfclScoreRow {
  category: string;
  accuracy: number;
  correctCount?: number;
  totalCount?: number;
}

/**
 * Scores of one BFCL run (`recipe-compat.md` §10.5 rewrite rule): every leaf from line 1 of exactly
 * `score/<model_dir>/<group_dir>/BFCL_v4_<leaf>_score.json`; for a group, first the unweighted mean
 * of all subcategory accuracies, then the subcategories in mapping order. Throws `BfclNoScoreError`
 * naming every missing file — a group total is never computed from a partial set (D3).
 */
export async function collectBfclScores(
  workDir: string,
  model: string,
  category: string,
  context: ToolRunContext = { command: [] },
): Promise<BfclScoreRow[]> {
  const leaves = scoredSubcategories(category);
  const rows: BfclScoreRow[] = [];
  const missing: string[] = [];
  const paths: string[] = [];
  for (const leaf of leaves) {
    const file = bfclScoreFile(workDir, model, leaf);
    try {
      const summary = await readScoreSummary(file);
      const row: BfclScoreRow = { category: leaf, accuracy: summary.accuracy };
      if (summary.correctCount !== undefined) row.correctCount = summary.correctCount;
      if (summary.totalCount !== undefined) row.totalCount = summary.totalCount;
      rows.push(row);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      missing.push(leaf);
      paths.push(file);
    }
  }
  if (missing.length > 0) throw new BfclNoScoreError(category, missing, paths, context);
  if (!isBfclGroup(category)) return rows;
  let sum = 0;
  for (const row of rows) sum += row.accuracy;
  return [{ category, accuracy: sum / rows.length }, ...rows];
}
