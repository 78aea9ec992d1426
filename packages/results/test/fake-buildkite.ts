import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach } from 'vitest';

export const FAKE_BUILDKITE = resolve(import.meta.dirname, 'fixtures/fake-buildkite.mjs');

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGTERM');
});

export interface FakeBuildkite {
  api: string;
  storage: string;
  requests(): Promise<{ origin: string; path: string; query?: Record<string, string>; auth: boolean }[]>;
}

/** Starts the fake Buildkite API (a real HTTP server on 127.0.0.1) with `config`, written under `dir`. */
export async function startFakeBuildkite(
  dir: string,
  config: Record<string, unknown>,
): Promise<FakeBuildkite> {
  const file = join(dir, 'fake-buildkite.json');
  writeFileSync(file, JSON.stringify(config));
  const child = spawn(process.execPath, [FAKE_BUILDKITE, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const first = await new Promise<string>((done, fail) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) done(text.split('\n')[0] as string);
    });
    child.on('exit', (code) => fail(new Error(`fake buildkite exited ${code}`)));
  });
  const { api, storage } = JSON.parse(first) as { api: string; storage: string };
  return {
    api,
    storage,
    requests: async () => (await (await fetch(`${api.replace(/\/v2$/, '')}/_requests`)).json()) as never,
  };
}
