import { formatElapsed, Heartbeat, terminalProgress } from './progress.js';

describe('formatElapsed', () => {
  it('renders seconds, minutes and hours compactly', () => {
    expect(formatElapsed(0)).toBe('0s');
    expect(formatElapsed(45_900)).toBe('45s');
    expect(formatElapsed(90_000)).toBe('1m30s');
    expect(formatElapsed(3_720_000)).toBe('1h02m');
  });
});

describe('Heartbeat', () => {
  afterEach(() => vi.useRealTimers());

  it('prints a plain line every interval with the step, the elapsed time and what is being fetched', () => {
    vi.useFakeTimers();
    let clock = 0;
    const lines: string[] = [];
    const heartbeat = new Heartbeat('building llm-d-inference-sim', (line) => lines.push(line), {
      intervalMs: 30_000,
      now: () => clock,
    });
    clock = 30_000;
    vi.advanceTimersByTime(30_000);
    heartbeat.saw('some noise');
    heartbeat.saw('go: downloading github.com/valyala/fasthttp v1.58.0');
    clock = 90_000;
    vi.advanceTimersByTime(30_000);
    heartbeat.stop();
    vi.advanceTimersByTime(120_000);
    expect(lines).toEqual([
      '    … building llm-d-inference-sim (30s)',
      '    … building llm-d-inference-sim (1m30s): go: downloading github.com/valyala/fasthttp v1.58.0',
    ]);
  });

  it('drives a live status line instead on a TTY, and clears it at the end', () => {
    vi.useFakeTimers();
    let clock = 0;
    const live: string[] = [];
    const lines: string[] = [];
    const heartbeat = new Heartbeat('installing lm-eval', (line) => lines.push(line), {
      live: (text) => live.push(text),
      now: () => clock,
    });
    clock = 2_000;
    vi.advanceTimersByTime(2_000);
    heartbeat.stop();
    expect(live).toEqual(['installing lm-eval (2s)', 'installing lm-eval (2s)', '']);
    expect(lines).toEqual([]);
  });
});

describe('terminalProgress', () => {
  it('plain lines (no live option) unless the stream is a TTY', () => {
    expect(terminalProgress({ write: () => true })).toEqual({});
    expect(terminalProgress({ write: () => true, isTTY: false })).toEqual({});
  });

  it('on a TTY, redraws one line cut to the terminal width and clears it with empty text', () => {
    const written: string[] = [];
    const progress = terminalProgress({ write: (text) => written.push(text), isTTY: true, columns: 20 });
    progress.live?.('building llm-d-inference-sim (1m30s)');
    progress.live?.('');
    expect(written).toEqual(['\r\x1b[K    … building llm', '\r\x1b[K']);
  });
});
