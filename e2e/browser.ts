/**
 * A real browser for the full-stack tier: headless Chromium (Debian's `chromium`, installed by .ci/run)
 * driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: NUL-separated JSON on fds
 * 3/4 — no port, no WebSocket library, nothing listening). It records every console error, page
 * exception, log error (CSP violations land there) and network request of one page load.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

/** `CHROMIUM` if set, else the first of chromium / chromium-browser / google-chrome on PATH. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['CHROMIUM']) return env['CHROMIUM'];
  for (const dir of (env['PATH'] ?? '').split(':').filter(Boolean)) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

interface Pending {
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: Error) => void;
  method: string;
}

type Listener = (params: Record<string, unknown>, sessionId: string | undefined) => void;

/** One Chromium process and its DevTools pipe. */
class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners: Listener[] = [];
  private buffer = '';
  private exited = false;
  readonly stderr: string[] = [];

  constructor(
    readonly child: ChildProcess,
    private readonly profile: string,
  ) {
    const output = child.stdio[4] as Readable;
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\0')) >= 0) {
        const message = JSON.parse(this.buffer.slice(0, end)) as {
          id?: number;
          method?: string;
          params?: Record<string, unknown>;
          result?: Record<string, unknown>;
          error?: { message: string };
          sessionId?: string;
        };
        this.buffer = this.buffer.slice(end + 1);
        if (message.id !== undefined) {
          const waiter = this.pending.get(message.id);
          this.pending.delete(message.id);
          if (message.error) waiter?.reject(new Error(`${waiter.method}: ${message.error.message}`));
          else waiter?.resolve(message.result ?? {});
        } else if (message.method) {
          for (const listener of this.listeners)
            listener({ ...message.params, method: message.method }, message.sessionId);
        }
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    child.on('exit', () => {
      this.exited = true;
      for (const waiter of this.pending.values())
        waiter.reject(
          new Error(
            `chromium exited while waiting for ${waiter.method}:\n${this.stderr.join('').slice(-2000)}`,
          ),
        );
      this.pending.clear();
    });
  }

  /** One DevTools command; rejects after `timeoutMs` so a stuck browser fails the test instead of hanging it. */
  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
    timeoutMs = 30_000,
  ): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`chromium is not running (${method})`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer from chromium within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        method,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      (this.child.stdio[3] as Writable).write(
        `${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`,
      );
    });
  }

  on(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** Waits for one event of `method` (on `sessionId`), with a timeout. */
  waitFor(method: string, sessionId: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${method} from chromium within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.on((params, session) => {
        if (params['method'] === method && session === sessionId) {
          clearTimeout(timer);
          resolve(params);
        }
      });
    });
  }

  async close(): Promise<void> {
    if (!this.exited) {
      await this.send('Browser.close', {}, undefined, 5_000).catch(() => undefined);
      await new Promise<void>((resolve) => {
        if (this.exited) return resolve();
        const timer = setTimeout(() => {
          this.child.kill('SIGKILL');
          resolve();
        }, 5_000);
        this.child.on('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 5 });
  }
}

export interface PageLoad {
  url: string;
  /** Console errors, uncaught exceptions and error-level log entries (CSP violations, failed loads). */
  errors: string[];
  /** Every request the page attempted, the document itself included (blocked ones too). */
  requests: string[];
  /** Attempted requests the browser blocked, with the reason (`csp`, …). */
  blocked: Array<{ url: string; reason: string }>;
  /** `evaluate`'s result (JSON-serialisable). */
  value: unknown;
  /** Where the full-page PNG was written, when asked. */
  screenshot?: string;
}

/**
 * Loads `file` headless from its file URL, waits for the load event, runs `expression` in the page
 * (DevTools evaluation works on a page whose CSP forbids scripts), and optionally writes a full-page
 * screenshot. The browser is always closed.
 */
export async function loadPage(
  chromium: string,
  file: string,
  options: { expression?: string; screenshot?: string; width?: number } = {},
): Promise<PageLoad> {
  const profile = mkdtempSync(join(tmpdir(), 'perf-eval-chromium-'));
  const child = spawn(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-extensions',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--hide-scrollbars',
      `--user-data-dir=${profile}`,
      '--remote-debugging-pipe',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  const browser = new Browser(child, profile);
  const url = pathToFileURL(file).href;
  const errors: string[] = [];
  const requests: string[] = [];
  const blocked: Array<{ url: string; reason: string }> = [];
  const requestUrls = new Map<string, string>();
  try {
    const { targetId } = (await browser.send('Target.createTarget', { url: 'about:blank' })) as {
      targetId: string;
    };
    const { sessionId } = (await browser.send('Target.attachToTarget', { targetId, flatten: true })) as {
      sessionId: string;
    };
    browser.on((params, session) => {
      if (session !== sessionId) return;
      const method = params['method'];
      if (method === 'Runtime.consoleAPICalled' && params['type'] === 'error') {
        errors.push(`console.error: ${JSON.stringify(params['args'])}`);
      } else if (method === 'Runtime.exceptionThrown') {
        errors.push(
          `exception: ${JSON.stringify((params['exceptionDetails'] as { text?: string } | undefined)?.text)}`,
        );
      } else if (method === 'Log.entryAdded') {
        const entry = params['entry'] as { level: string; text: string; url?: string };
        if (entry.level === 'error') errors.push(`log: ${entry.text}${entry.url ? ` (${entry.url})` : ''}`);
      } else if (method === 'Network.requestWillBeSent') {
        const requestUrl = (params['request'] as { url: string }).url;
        requests.push(requestUrl);
        requestUrls.set(params['requestId'] as string, requestUrl);
      } else if (method === 'Network.loadingFailed' && params['blockedReason']) {
        blocked.push({
          url: requestUrls.get(params['requestId'] as string) ?? '?',
          reason: String(params['blockedReason']),
        });
      }
    });
    for (const domain of ['Runtime.enable', 'Log.enable', 'Network.enable', 'Page.enable'])
      await browser.send(domain, {}, sessionId);
    const width = options.width ?? 1100;
    await browser.send(
      'Emulation.setDeviceMetricsOverride',
      { width, height: 900, deviceScaleFactor: 1, mobile: false },
      sessionId,
    );
    const loaded = browser.waitFor('Page.loadEventFired', sessionId);
    const navigation = (await browser.send('Page.navigate', { url }, sessionId)) as { errorText?: string };
    if (navigation.errorText) throw new Error(`chromium could not open ${url}: ${navigation.errorText}`);
    await loaded;
    let value: unknown;
    if (options.expression) {
      const evaluated = (await browser.send(
        'Runtime.evaluate',
        { expression: options.expression, returnByValue: true },
        sessionId,
      )) as { result: { value?: unknown }; exceptionDetails?: { text: string } };
      if (evaluated.exceptionDetails) throw new Error(`evaluate failed: ${evaluated.exceptionDetails.text}`);
      value = evaluated.result.value;
    }
    const load: PageLoad = { url, errors, requests, blocked, value };
    if (options.screenshot) {
      const metrics = (await browser.send('Page.getLayoutMetrics', {}, sessionId)) as {
        cssContentSize: { width: number; height: number };
      };
      const height = Math.ceil(metrics.cssContentSize.height);
      const shot = (await browser.send(
        'Page.captureScreenshot',
        { format: 'png', captureBeyondViewport: true, clip: { x: 0, y: 0, width, height, scale: 1 } },
        sessionId,
        60_000,
      )) as { data: string };
      writeFileSync(options.screenshot, Buffer.from(shot.data, 'base64'));
      load.screenshot = options.screenshot;
    }
    return load;
  } finally {
    await browser.close();
  }
}
