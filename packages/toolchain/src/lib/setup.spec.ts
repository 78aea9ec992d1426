import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkToolsDir, formatProvisionReports, ToolsDirError } from './setup.js';

describe('checkToolsDir', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'toolchain-setup-'));
    writeFileSync(join(root, 'afile'), '');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('--tools-dir (relative to cwd), else PERF_EVAL_TOOLS_DIR, else the cache default', () => {
    const env = { PERF_EVAL_TOOLS_DIR: join(root, 'from-env'), HOME: root };
    expect(checkToolsDir('given', { cwd: root, env })).toBe(join(root, 'given'));
    expect(checkToolsDir(undefined, { cwd: root, env })).toBe(join(root, 'from-env'));
    expect(checkToolsDir(undefined, { cwd: root, env: { HOME: root } })).toBe(
      join(root, '.cache/perf-eval/tools'),
    );
  });

  it('a directory under a file is a usage error naming where it came from', () => {
    const under = join(root, 'afile', 'tools');
    const problem = `${join(root, 'afile')} is a file, not a directory, so nothing can be created under it`;
    const given = () => checkToolsDir(under, { cwd: root, env: {} });
    expect(given).toThrow(ToolsDirError);
    expect(given).toThrow(
      expect.objectContaining({
        code: 'E_SETUP_TOOLS_DIR',
        category: 'usage',
        dir: under,
        message: `perf-eval setup: cannot use --tools-dir ${under} as the tools directory: ${problem}; choose another directory`,
      }),
    );
    expect(() => checkToolsDir(undefined, { cwd: root, env: { PERF_EVAL_TOOLS_DIR: under } })).toThrow(
      expect.objectContaining({ source: `PERF_EVAL_TOOLS_DIR=${under}` }),
    );
    const cache = join(root, 'afile');
    expect(() => checkToolsDir(undefined, { cwd: root, env: { XDG_CACHE_HOME: cache } })).toThrow(
      expect.objectContaining({ source: `the tools directory ${join(cache, 'perf-eval/tools')}` }),
    );
  });
});

describe('formatProvisionReports', () => {
  it('aligns tool, status, seconds and path', () => {
    expect(
      formatProvisionReports([
        { tool: 'lm_eval', status: 'provisioned', durationS: 41.2, path: '/t/venvs/lmeval' },
        { tool: 'sim', status: 'path', durationS: 0, path: '/usr/bin/llm-d-inference-sim' },
      ]),
    ).toEqual([
      '  lm_eval    provisioned    41.2 s  /t/venvs/lmeval',
      '  sim        path              0 s  /usr/bin/llm-d-inference-sim',
    ]);
  });
});
