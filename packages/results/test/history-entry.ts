import { historyEntryOf, type HistoryEntry } from '../src/lib/history.js';

/** A history entry of a run with one bench throughput record (history, baseline and import tests). */
export function historyEntry(runId: string, recipe: string): HistoryEntry {
  return historyEntryOf({
    source: 'x',
    identity: { runId, recipe },
    tasks: [{ task: 'bench:a', kind: 'bench', configKey: '{}', flags: [], files: [] }],
    records: [{ task: 'bench:a', metric: 'output_throughput', repetition: null, value: 1, better: 'higher' }],
    samples: [],
    warnings: [],
  });
}
