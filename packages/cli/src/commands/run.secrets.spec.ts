import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliEnv, freePort, readSummary, runCli, sandbox, simRecipe } from '../../test/harness.js';

/** Every regular file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

describe('perf-eval run: secrets printed by the server', () => {
  it('never reach server.log, summary.json, summary.md or the console, even split across two writes', async () => {
    const box = sandbox();
    const secrets = {
      HF_TOKEN: 'hf_SECRETtokenVALUE0123456789',
      INGEST_BEARER_TOKEN: 'ingest-bearer-SECRET-4242',
      WANDB_API_KEY: 'wandb-SECRET-key-777',
      STORAGE_KEY: 'storage-SECRET-key-888',
      DB_PASSWORD: 'db-SECRET-password-999',
    };
    // A secret the recipe passes to the server by name, and one passed as --api-key.
    const recipeSecret = 'recipe-SECRET-value-555';
    const apiKey = 'apikey-SECRET-value-666';
    const crashLog = box.path('crash.log');
    writeFileSync(
      crashLog,
      [
        `huggingface_hub.errors.HfHubHTTPError: 401 Client Error: Unauthorized (token '${secrets.HF_TOKEN}')`,
        `ValueError: could not authenticate with ${secrets.DB_PASSWORD} / ${recipeSecret} / ${apiKey}`,
        `RuntimeError: Engine core initialization failed. See root cause above. token=${secrets.INGEST_BEARER_TOKEN}`,
      ].join('\n'),
    );
    const recipe = simRecipe('secrets', {
      lmEval: null,
      bfcl: null,
      extra: `  env:\n    MODEL_ACCESS_SECRET: ${recipeSecret}\n`,
    }).replace('--enable-auto-tool-choice', `--enable-auto-tool-choice --api-key ${apiKey}`);
    const env = cliEnv(box, await freePort(), {
      ...secrets,
      FAKE_VLLM_ECHO_ENV: 'HF_TOKEN,WANDB_API_KEY,STORAGE_KEY,MODEL_ACCESS_SECRET',
      FAKE_VLLM_CRASH: 'before',
      FAKE_VLLM_CRASH_LOG: crashLog,
      FAKE_VLLM_CRASH_AFTER_MS: '100',
    });
    const out = await runCli(box, ['run', box.recipe(recipe), '--no-ingest'], env);
    expect(out.code, out.stderr).toBe(1);
    const dir = box.resultsDir('secrets');
    // The server really printed them (masked) and the crash was diagnosed from the scrubbed lines.
    const serverLog = readFileSync(join(dir, 'server.log'), 'utf8');
    expect(serverLog).toContain('HF_TOKEN=***');
    expect(serverLog).toContain('STORAGE_KEY=***');
    expect(serverLog).toContain('MODEL_ACCESS_SECRET=***');
    expect(serverLog).toContain("(token '***')");
    expect(readSummary(dir).server.status).toBe('failed');
    expect(JSON.stringify(readSummary(dir).server.error)).toContain('***');

    const values = [...Object.values(secrets), recipeSecret, apiKey];
    const files = filesUnder(dir);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(
      expect.arrayContaining(['server.log', 'summary.json', 'summary.md']),
    );
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const value of values) expect(text.includes(value), `${value} in ${file}`).toBe(false);
    }
    for (const value of values) {
      expect(out.stdout.includes(value), `${value} on stdout`).toBe(false);
      expect(out.stderr.includes(value), `${value} on stderr`).toBe(false);
      // Neither half of a value split across two writes survives alone either.
      expect(
        out.stdout.includes(value.slice(0, Math.floor(value.length / 2))),
        `first half of ${value} on stdout`,
      ).toBe(false);
    }
  });
});
