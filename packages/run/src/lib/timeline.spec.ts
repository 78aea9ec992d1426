import { describe, expect, it } from 'vitest';
import { accountGpuTime, describeGpuTime, Timeline, type TimelinePhase } from './timeline.js';

const at = (s: number): string => new Date(Date.UTC(2026, 11, 2, 0, 0, 0) + s * 1000).toISOString();
const phase = (name: string, kind: TimelinePhase['kind'], from: number, to: number): TimelinePhase => ({
  name,
  kind,
  start: at(from),
  end: at(to),
});

describe('accountGpuTime', () => {
  it('splits the wall time by cause; overlapping accuracy tasks count once; gaps are between-tasks', () => {
    const phases = [
      phase('setup', 'setup', 0, 10),
      phase('server', 'server-launch', 5, 65), // overlaps setup: server start-up wins
      phase('bench a', 'bench', 66, 126),
      phase('gsm8k', 'lm_eval', 130, 190),
      phase('bfcl simple', 'bfcl', 150, 200), // concurrent with gsm8k
      phase('teardown', 'teardown', 200, 203),
      phase('ingest', 'ingest', 203, 205),
    ];
    const accounting = accountGpuTime(phases, at(0), at(206));
    expect(accounting).toEqual({
      heldS: 206,
      measuringS: 60 + 70,
      busyFraction: 130 / 206,
      idleS: {
        'server-start': 60,
        setup: 5,
        'cache-reset': 0,
        teardown: 3,
        ingest: 2,
        report: 0,
        'between-tasks': 1 + 4 + 1,
      },
    });
    const parts = accounting.measuringS + Object.values(accounting.idleS).reduce((a, b) => a + b, 0);
    expect(parts).toBeCloseTo(accounting.heldS, 9);
    expect(describeGpuTime(accounting)).toBe(
      'GPUs busy 63 % (measuring 2 min 10 s of 3 min 26 s); idle: server start-up 1 min 0 s, between tasks 6.0 s, setup 5.0 s, teardown 3.0 s, ingest 2.0 s',
    );
  });

  it('clips phases to the step and ignores empty or unparsable ones', () => {
    const accounting = accountGpuTime(
      [
        phase('early', 'setup', -5, 2),
        phase('empty', 'bench', 3, 3),
        { name: 'bad', kind: 'bench', start: 'x', end: 'y' },
      ],
      at(0),
      at(4),
    );
    expect(accounting.heldS).toBe(4);
    expect(accounting.idleS.setup).toBe(2);
    expect(accounting.idleS['between-tasks']).toBe(2);
    expect(accounting.measuringS).toBe(0);
  });

  it('an empty step is 0 % busy', () => {
    expect(accountGpuTime([], at(0), at(0))).toMatchObject({ heldS: 0, measuringS: 0, busyFraction: 0 });
  });
});

describe('Timeline', () => {
  it('records phases with status, once, and sorts concurrent ones by start', async () => {
    let t = 0;
    const timeline = new Timeline(() => new Date(Date.UTC(2026, 0, 1) + t * 1000));
    const endA = timeline.begin('a', 'lm_eval');
    t = 1;
    const endB = timeline.begin('b', 'bfcl');
    t = 2;
    endB('ok');
    t = 3;
    endA('failed');
    endA('ok');
    await expect(timeline.time('c', 'teardown', async () => Promise.reject(new Error('x')))).rejects.toThrow(
      'x',
    );
    expect(timeline.sorted().map((p) => `${p.name}:${p.status}`)).toEqual(['a:failed', 'b:ok', 'c:failed']);
    expect(timeline.phases).toHaveLength(3);
  });
});
