/**
 * The browser check itself can fail: pages that make a request or log an error are caught. (The demo
 * run's report is checked in demo-sim.e2e.spec.ts, on that run's results.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findChromium, loadPage } from './browser.js';

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

function page(name: string, html: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'perf-eval-browser-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, name);
  writeFileSync(file, html);
  return file;
}

describe('the headless-Chromium check', () => {
  it('sees requests and console errors of a page without a CSP, and CSP refusals of one with it', async () => {
    const chromium = findChromium();
    expect(chromium, "no chromium on PATH (Debian package 'chromium'; .ci/run installs it)").toBeDefined();
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const image = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pixel.png`;

    const open = page(
      'open.html',
      `<!DOCTYPE html><html><body><img src="${image}"><script>console.error('boom')</script></body></html>`,
    );
    const loose = await loadPage(chromium as string, open);
    expect(loose.requests).toContain(image);
    expect(loose.blocked).toEqual([]);
    expect(hits).toBeGreaterThan(0);
    expect(loose.errors.some((e) => e.includes('boom'))).toBe(true);

    hits = 0;
    const locked = page(
      'locked.html',
      `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="${CSP}"></head><body><img src="${image}"></body></html>`,
    );
    const strict = await loadPage(chromium as string, locked);
    // Chromium reports the attempt and blocks it before it leaves: the server sees nothing.
    expect(hits).toBe(0);
    expect(strict.requests).toEqual([strict.url, image]);
    expect(strict.blocked).toEqual([{ url: image, reason: 'csp' }]);
    expect(
      strict.errors.some((e) => /Content Security Policy/i.test(e)),
      strict.errors.join('\n'),
    ).toBe(true);
  });
});
