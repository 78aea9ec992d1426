import { benchGroupOf, timelineOf, type RunSummaryFields } from './assemble.js';

const T0 = Date.parse('2026-11-30T02:00:00Z');
const iso = (s: number): string => new Date(T0 + s * 1000).toISOString();

type TaskRecord = RunSummaryFields['tasks'][number];

function taskRecord(kind: string, name: string, status: string, from: number, to: number): TaskRecord {
  return {
    id: `${kind}:${name}`,
    kind,
    name,
    status,
    startedAt: iso(from),
    finishedAt: iso(to),
    durationS: to - from,
  };
}

describe('report data assembly', () => {
  it('groups runs named <config>-conc-<N> by config', () => {
    expect(benchGroupOf('8k-in-1k-out-conc-128')).toEqual({ group: '8k-in-1k-out', concurrency: 128 });
    expect(benchGroupOf('sharegpt')).toEqual({ group: 'sharegpt', concurrency: undefined });
  });

  it('timeline: the recorded one when summary.json has it, else server start-up and the tasks', () => {
    const base = {
      startedAt: iso(0),
      server: { status: 'stopped', readyAfterS: 10 },
      tasks: [
        taskRecord('bench', 'a', 'ok', 10, 20),
        { ...taskRecord('lm_eval', 'b', 'skipped', 0, 0), startedAt: undefined },
      ],
    } as unknown as RunSummaryFields;
    expect(timelineOf(base)).toEqual([
      { name: 'server start-up', kind: 'server', start: T0, end: T0 + 10_000 },
      { name: 'bench:a', kind: 'bench', start: iso(10), end: iso(20) },
    ]);
    const recorded = [
      { name: 'idle', kind: 'idle', start: 0, end: 5 },
      { name: 'bad', kind: 'x' },
    ];
    expect(timelineOf({ ...base, timeline: recorded } as unknown as RunSummaryFields)).toEqual([
      { name: 'idle', kind: 'idle', start: 0, end: 5 },
    ]);
  });
});
