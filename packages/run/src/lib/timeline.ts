/**
 * Where a GPU step's time went. Phases are recorded as they happen; `accountGpuTime` splits the wall time
 * of the step into what the GPUs were doing, so that the parts add up to the whole by construction:
 * every instant of [start, end] is given to exactly one cause, by priority — a measurement running
 * (bench, accuracy task) beats server start-up, which beats setup, and so on. Overlapping accuracy tasks
 * therefore count once, and a gap between phases is `idle` rather than silently lost.
 */

export type PhaseKind =
  | 'setup'
  | 'preflight'
  | 'server-launch'
  | 'cache-reset'
  | 'bench'
  | 'semantic_eval'
  | 'lm_eval'
  | 'bfcl'
  | 'teardown'
  | 'ingest'
  | 'report';

export interface TimelinePhase {
  name: string;
  kind: PhaseKind;
  /** ISO 8601. */
  start: string;
  end: string;
  /** ok / failed / cancelled … as the task ended; absent for bookkeeping phases. */
  status?: string;
}

export const MEASURING_KINDS: readonly PhaseKind[] = ['bench', 'semantic_eval', 'lm_eval', 'bfcl'];

/** Idle causes, in priority order after `measuring`. */
export type IdleCause =
  | 'server-start'
  | 'setup'
  | 'cache-reset'
  | 'teardown'
  | 'ingest'
  | 'report'
  | 'between-tasks';

const CAUSE_OF: Record<PhaseKind, 'measuring' | IdleCause> = {
  bench: 'measuring',
  semantic_eval: 'measuring',
  lm_eval: 'measuring',
  bfcl: 'measuring',
  'server-launch': 'server-start',
  setup: 'setup',
  preflight: 'setup',
  'cache-reset': 'cache-reset',
  teardown: 'teardown',
  ingest: 'ingest',
  report: 'report',
};
const PRIORITY: readonly ('measuring' | IdleCause)[] = [
  'measuring',
  'server-start',
  'setup',
  'cache-reset',
  'teardown',
  'ingest',
  'report',
];

export interface GpuAccounting {
  /** Wall seconds of the step: the GPUs are held from its start to its exit. */
  heldS: number;
  /** Seconds a measurement was running (union of bench and accuracy phases). */
  measuringS: number;
  /** measuringS / heldS, 0–1. */
  busyFraction: number;
  /** The rest, by cause; `between-tasks` is time covered by no phase. measuringS + Σ idleS = heldS. */
  idleS: Record<IdleCause, number>;
}

const round = (seconds: number): number => Math.round(seconds * 1000) / 1000;

export function accountGpuTime(
  phases: readonly TimelinePhase[],
  stepStart: string,
  stepEnd: string,
): GpuAccounting {
  const t0 = Date.parse(stepStart);
  const t1 = Math.max(t0, Date.parse(stepEnd));
  const clipped = phases
    .map((p) => ({
      cause: CAUSE_OF[p.kind],
      from: Math.max(t0, Date.parse(p.start)),
      to: Math.min(t1, Date.parse(p.end)),
    }))
    .filter((p) => Number.isFinite(p.from) && Number.isFinite(p.to) && p.to > p.from);
  const cuts = [...new Set([t0, t1, ...clipped.flatMap((p) => [p.from, p.to])])].sort((a, b) => a - b);
  const totals = new Map<'measuring' | IdleCause, number>();
  for (let i = 0; i + 1 < cuts.length; i++) {
    const from = cuts[i] as number;
    const to = cuts[i + 1] as number;
    const active = new Set(clipped.filter((p) => p.from <= from && p.to >= to).map((p) => p.cause));
    const cause = PRIORITY.find((c) => active.has(c)) ?? 'between-tasks';
    totals.set(cause, (totals.get(cause) ?? 0) + (to - from));
  }
  const seconds = (cause: 'measuring' | IdleCause): number => round((totals.get(cause) ?? 0) / 1000);
  const heldS = round((t1 - t0) / 1000);
  const measuringS = seconds('measuring');
  return {
    heldS,
    measuringS,
    busyFraction: heldS > 0 ? measuringS / heldS : 0,
    idleS: {
      'server-start': seconds('server-start'),
      setup: seconds('setup'),
      'cache-reset': seconds('cache-reset'),
      teardown: seconds('teardown'),
      ingest: seconds('ingest'),
      report: seconds('report'),
      'between-tasks': seconds('between-tasks'),
    },
  };
}

const LABEL: Record<IdleCause, string> = {
  'server-start': 'server start-up',
  setup: 'setup',
  'cache-reset': 'cache resets',
  teardown: 'teardown',
  ingest: 'ingest',
  report: 'report',
  'between-tasks': 'between tasks',
};

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return `${m} min ${s} s`;
}

/** "GPUs busy 71 % (measuring 12 min 3 s of 17 min): server start-up 4 min 1 s, setup 20 s, …" — idle causes
 * largest first, zeros left out. */
export function describeGpuTime(accounting: GpuAccounting): string {
  const idle = (Object.entries(accounting.idleS) as [IdleCause, number][])
    .filter(([, s]) => s >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([cause, s]) => `${LABEL[cause]} ${duration(s)}`);
  const head = `GPUs busy ${Math.round(accounting.busyFraction * 100)} % (measuring ${duration(accounting.measuringS)} of ${duration(accounting.heldS)})`;
  return idle.length > 0 ? `${head}; idle: ${idle.join(', ')}` : head;
}

/** Records phases as they happen. `now` is injectable for tests. */
export class Timeline {
  readonly phases: TimelinePhase[] = [];
  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Start a phase; call the returned function when it ends (idempotent). */
  begin(name: string, kind: PhaseKind): (status?: string) => TimelinePhase {
    const start = this.now().toISOString();
    let done: TimelinePhase | undefined;
    return (status?: string) => {
      if (done) return done;
      done = {
        name,
        kind,
        start,
        end: this.now().toISOString(),
        ...(status === undefined ? {} : { status }),
      };
      this.phases.push(done);
      return done;
    };
  }

  async time<T>(name: string, kind: PhaseKind, work: () => Promise<T>): Promise<T> {
    const end = this.begin(name, kind);
    try {
      const value = await work();
      end('ok');
      return value;
    } catch (error) {
      end('failed');
      throw error;
    }
  }

  /** Phases in start order (concurrent tasks finish out of order). */
  sorted(): TimelinePhase[] {
    return [...this.phases].sort((a, b) => a.start.localeCompare(b.start) || a.end.localeCompare(b.end));
  }
}
