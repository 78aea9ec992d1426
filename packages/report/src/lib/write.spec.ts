import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReportInputError } from './assemble.js';
import { writeReport } from './write.js';

function testdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'perf-eval-report-write-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

describe('writeReport', () => {
  it('writes the page of a results directory that has only summary.json, secrets scrubbed', async () => {
    const dir = join(testdir(), 'partial');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'summary.json'),
      JSON.stringify({
        workload: 'partial',
        status: 'failed',
        server: {
          status: 'failed',
          error: { code: 'E_SERVER_EXITED', message: 'token hf_secret1 rejected' },
        },
        tasks: [
          { id: 'bench:a', kind: 'bench', name: 'a', status: 'skipped', reason: 'server not available' },
        ],
      }),
    );
    const out = join(dir, 'report.html');
    const written = await writeReport(dir, out, { secrets: ['hf_secret1'] });
    const html = readFileSync(out, 'utf8');
    expect(written).toEqual({ path: out, bytes: Buffer.byteLength(html) });
    expect(html).toContain('server not available');
    expect(html).toContain('token *** rejected');
    expect(html).not.toContain('hf_secret1');
  });

  it('a missing results directory is a ReportInputError (validation: exit 2 in the CLI)', async () => {
    const dir = join(testdir(), 'missing');
    const error = await writeReport(dir, join(dir, 'report.html')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportInputError);
    expect(error).toMatchObject({ code: 'E_REPORT_INPUT', category: 'validation', path: dir });
  });
});
