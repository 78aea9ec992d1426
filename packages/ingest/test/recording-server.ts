import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';

/** A request as received by the test server. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** What the server did with it. */
  outcome: 'answered' | 'destroyed' | 'slow';
  status: number | undefined;
}

/** Scripted behaviour for the next request: a status, a reply delayed past the client timeout, or a dropped socket. */
export type Reply =
  | { status: number; body?: string; headers?: Record<string, string> }
  | { destroy: true }
  | { delayMs: number; status: number };

export interface RecordingServer {
  /** `http://127.0.0.1:<port>/<path>` */
  url(path?: string): string;
  requests: RecordedRequest[];
  /** Bodies of the requests answered with a 2xx: what the dashboard actually stored. */
  delivered(): string[];
  /** Replies for the next requests, in order; afterwards every request gets `fallback`. */
  script(...replies: Reply[]): void;
  fallback: Reply;
  dispatcher: Agent;
  close(): Promise<void>;
}

/**
 * A real node:http server on 127.0.0.1 that records every POST and answers per script. Closed (with
 * its dispatcher) by the returned `close`, which tests register with `onTestFinished`.
 */
export async function startRecordingServer(): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const queue: Reply[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const state = { fallback: { status: 200 } as Reply };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = queue.shift() ?? state.fallback;
      const record: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        outcome: 'answered',
        status: undefined,
      };
      requests.push(record);
      if ('destroy' in reply) {
        record.outcome = 'destroyed';
        req.socket.destroy();
        return;
      }
      if ('delayMs' in reply) {
        record.outcome = 'slow';
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) res.writeHead(reply.status).end('late');
        }, reply.delayMs);
        timers.add(timer);
        return;
      }
      record.status = reply.status;
      res
        .writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers })
        .end(reply.body ?? (reply.status < 300 ? 'ok' : `status ${reply.status}`));
    });
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const dispatcher = new Agent({ keepAliveTimeout: 50, keepAliveMaxTimeout: 50 });

  return {
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
    requests,
    delivered: () =>
      requests
        .filter((r) => r.outcome === 'answered' && (r.status ?? 0) >= 200 && (r.status ?? 0) < 300)
        .map((r) => r.body),
    script: (...replies) => queue.push(...replies),
    get fallback() {
      return state.fallback;
    },
    set fallback(reply: Reply) {
      state.fallback = reply;
    },
    dispatcher,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      await dispatcher.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
