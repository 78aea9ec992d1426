/**
 * Disaggregated prefill/decode for real on the simulator: `perf-eval run e2e/fixtures/disagg_sim.yaml`
 * starts two llm-d-inference-sim instances (prefill, decode) and the toy proxy in front of them, waits
 * for all three, runs a REAL `vllm bench serve` and the semantic eval through the proxy, and tears
 * all three down (checked by pid).
 *
 * The closest real test possible here: vLLM's toy proxy
 * (tests/v1/kv_connector/nixl_integration/toy_proxy_server.py) is not in the vllm wheel and GitHub is
 * unreachable from this machine, so the proxy is server-lifecycle's contract-faithful fake
 * (fake-toy-proxy.mjs: same CLI, routes and prefill→decode forwarding). Likewise gsm8k_eval.py is
 * not installable, so the semantic eval is the cli's fake of it (same CLI, real HTTP requests,
 * --save-results JSON), reading the project's GSM8K copy from the temp dir as the real script does.
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  cliEnv,
  freePort,
  isAlive,
  readJson,
  readSummary,
  REPO,
  resultsRoot,
  simulatorPids,
  startCli,
} from './helpers.js';

const RECIPE = 'e2e/fixtures/disagg_sim.yaml';
const GSM8K = resolve(REPO, '../shared/data/gsm8k');
const report = (line: string): void => {
  process.stdout.write(`e2e: ${line}\n`);
};

interface RoleJson {
  status: string;
  port: number;
  pid?: number;
  logFile: string;
}

describe('disaggregated prefill/decode on the real simulator', () => {
  it('prefill + decode simulators behind the proxy: real vllm bench serve and the semantic eval through it; all three stopped', async () => {
    const root = resultsRoot();
    // gsm8k_eval.py reads train.jsonl/test.jsonl from tempfile.gettempdir() (TMPDIR).
    const tmp = join(root, 'tmp');
    mkdirSync(tmp);
    for (const file of ['train.jsonl', 'test.jsonl']) copyFileSync(join(GSM8K, file), join(tmp, file));
    const port = await freePort(3);
    const cli = startCli(
      ['run', RECIPE, '--results-dir', root, '--no-ingest'],
      cliEnv({ VLLM_PORT: String(port), TMPDIR: tmp }),
    );
    const out = await cli.done;
    report(`disaggregated run: exit ${out.code} in ${out.wallS.toFixed(1)} s`);
    expect(out.code, cli.output().slice(-6000)).toBe(0);

    const dir = join(root, 'disagg-sim');
    const summary = readSummary(dir);
    expect(summary?.status).toBe('ok');
    const server = summary?.server as {
      url?: string;
      readyAfterS?: number;
      roles?: Record<string, RoleJson>;
    };
    report(`all three ready after ${server.readyAfterS?.toFixed(2)} s`);
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
    const roles = server.roles ?? {};
    expect(Object.keys(roles)).toEqual(['prefill', 'decode', 'proxy']);
    expect([roles['proxy']?.port, roles['prefill']?.port, roles['decode']?.port]).toEqual([
      port,
      port + 1,
      port + 2,
    ]);
    for (const [role, entry] of Object.entries(roles)) {
      expect(entry.status, role).toBe('stopped');
      expect(entry.pid, role).toBeTypeOf('number');
      expect(isAlive(entry.pid as number), `${role} pid ${entry.pid}`).toBe(false);
    }
    expect(simulatorPids(port + 1)).toEqual([]);
    expect(simulatorPids(port + 2)).toEqual([]);

    // The real bench went through the proxy: every request completed with the exact token count.
    const bench = readJson(join(dir, 'bench-64-in-16-out-conc-4.json'));
    expect(bench['completed']).toBe(20);
    expect(bench['failed'] ?? 0).toBe(0);
    expect(bench['total_output_tokens']).toBe(20 * 16);
    report(`bench through the proxy: ${String(bench['output_throughput'])} output tok/s`);
    // The proxy forwarded each request to prefill then decode (its access log).
    const proxyLog = readFileSync(join(dir, 'proxy.log'), 'utf8');
    expect(proxyLog.match(/"POST \/v1\/completions HTTP\/1.1" 200 OK/g)?.length ?? 0).toBeGreaterThanOrEqual(
      20,
    );
    expect(proxyLog.match(/"POST \/v1\/chat\/completions HTTP\/1.1" 200 OK/g)?.length ?? 0).toBe(10);

    // The semantic eval ran after the bench, against the proxy, and was parsed into the summary.
    const semantic = summary?.tasks.find((t) => t.id === 'semantic_eval:semantic_eval');
    expect(semantic?.status).toBe('ok');
    const saved = readJson(join(dir, 'semantic_eval.json'));
    expect(saved['num_questions']).toBe(10);
    expect((saved['request_params'] as Record<string, unknown>)['endpoint']).toBe('chat');
    expect(semantic?.metrics['accuracy']).toBe(saved['accuracy']);
    expect(semantic?.metrics['questions_per_second']).toBe(saved['questions_per_second']);
    // The simulator answered every question (random text: accuracy is meaningless, no request failed).
    expect(cli.output()).not.toContain('Error calling vLLM API');
    report(
      `semantic eval: accuracy ${String(saved['accuracy'])}, ${Number(saved['questions_per_second']).toFixed(2)} q/s`,
    );
  });
});
