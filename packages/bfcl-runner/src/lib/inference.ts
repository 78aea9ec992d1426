import { bfclResultFile } from './categories.js';
import { readBfclResultFile } from './parse.js';

const INFERENCE_ERROR = 'Error during inference: ';

/** Entries BFCL could not generate (`"result": "Error during inference: …"`) for one leaf. */
export interface BfclInferenceErrors {
  category: string;
  /** Entries with an inference error. */
  errors: number;
  /** Entries in the result file. */
  total: number;
  /** The first error message, without the `Error during inference: ` prefix. */
  firstError?: string;
}

/**
 * Count failed inferences per leaf from the result files. BFCL's `generate` exits 0 when requests
 * fail (server down, tool schema rejected, …) and those entries simply score as wrong
 * (`tool-contracts.md` §5.3), so a dead server would otherwise publish 0.0. Missing result files
 * count as 0/0.
 */
export async function countInferenceErrors(
  workDir: string,
  model: string,
  leaves: readonly string[],
): Promise<BfclInferenceErrors[]> {
  const out: BfclInferenceErrors[] = [];
  for (const leaf of leaves) {
    let entries;
    try {
      entries = await readBfclResultFile(bfclResultFile(workDir, model, leaf));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        out.push({ category: leaf, errors: 0, total: 0 });
        continue;
      }
      throw error;
    }
    const failed = entries.filter(
      (entry) => typeof entry.result === 'string' && entry.result.startsWith(INFERENCE_ERROR),
    );
    const row: BfclInferenceErrors = { category: leaf, errors: failed.length, total: entries.length };
    if (failed[0] !== undefined)
      row.firstError = (failed[0].result as string).slice(INFERENCE_ERROR.length).split('\n')[0] as string;
    out.push(row);
  }
  return out;
}
