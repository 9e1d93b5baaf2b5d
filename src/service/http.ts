/**
 * The service's HTTP API on Node's own `http` (five read-only routes need no framework):
 *
 *   GET /snapshot   the JSON document of `analyze --json`, made now
 *   GET /events     Server-Sent Events: findings as they appear or change
 *   GET /metrics    Prometheus text (prom-client)
 *   GET /healthz    {"status": "ok" | "failing", "interfaces": [...]}
 *   GET /hops       the hops' state for another host's `hopscope analyze URL` (hops-document.ts)
 *
 * With a token every request must carry it (401 otherwise). Other methods get 405 with Allow,
 * other paths 404. A client reading events too slowly is disconnected once what waits for it
 * passes SSE_BUFFER_LIMIT (it reconnects with Last-Event-ID and gets what it missed, or a fresh
 * state): nothing grows without bound for a slow reader.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import type { FindingEvent, StreamFinding } from './tracker.js';

export const SSE_BUFFER_LIMIT = 1024 * 1024;
export const SSE_HEARTBEAT_MS = 15_000;
export const MAX_SSE_CLIENTS = 64;

export interface ApiHandlers {
  /** null: the capture has not started yet (503). */
  snapshot(): unknown | null;
  hops(): unknown | null;
  metrics(): Promise<{ contentType: string; body: string }>;
  health(): { ok: boolean; body: unknown };
  /** Events after a client's Last-Event-ID, or null: too old, it needs the state. */
  since(id: number): FindingEvent[] | null;
  current(): { lastId: number; findings: StreamFinding[] };
}

export interface ApiServer {
  server: Server;
  address(): { host: string; port: number };
  /** Sends events to every connected /events client. */
  broadcast(events: readonly FindingEvent[]): void;
  clients(): number;
  close(): Promise<void>;
}

const ROUTES = new Set(['/snapshot', '/events', '/metrics', '/healthz', '/hops']);

function sendJson(res: ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(head ? undefined : text);
}

function problem(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const text = `${JSON.stringify({ error: message })}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sseEvent(event: FindingEvent): string {
  return `id: ${event.id}\nevent: finding.${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export function startApiServer(
  listen: { host: string; port: number },
  authorized: (header: string | undefined) => boolean,
  handlers: ApiHandlers,
  logger: Logger,
): Promise<ApiServer> {
  const log = logger.child({ component: 'http' });
  const clients = new Set<ServerResponse>();

  const write = (res: ServerResponse, text: string) => {
    if (res.destroyed) return;
    res.write(text);
    // res.write buffers what the socket has not taken: past the limit the client is too slow.
    if (res.writableLength > SSE_BUFFER_LIMIT) {
      log.warn({ buffered: res.writableLength }, 'an event client reads too slowly: disconnected');
      clients.delete(res);
      res.destroy();
    }
  };

  const openEvents = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (clients.size >= MAX_SSE_CLIENTS) {
      problem(res, 503, `at most ${MAX_SSE_CLIENTS} event clients at once`, { 'retry-after': '30' });
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies (nginx) would otherwise hold events back.
      'x-accel-buffering': 'no',
    });
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    clients.add(res);
    write(res, `retry: 5000\n\n`);
    const lastId = Number(req.headers['last-event-id'] ?? url.searchParams.get('lastEventId') ?? Number.NaN);
    const missed = Number.isInteger(lastId) && lastId >= 0 ? handlers.since(lastId) : null;
    if (missed !== null) {
      for (const event of missed) write(res, sseEvent(event));
    } else {
      const state = handlers.current();
      write(res, `id: ${state.lastId}\nevent: snapshot\ndata: ${JSON.stringify(state)}\n\n`);
    }
    const heartbeat = setInterval(() => write(res, ': keep-alive\n\n'), SSE_HEARTBEAT_MS);
    heartbeat.unref();
    res.on('close', () => {
      clearInterval(heartbeat);
      clients.delete(res);
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://hopscope');
    } catch {
      // "//" and the like: the client's mistake (400), not the service's (500, logged as an error).
      problem(res, 400, `not a path: ${JSON.stringify(req.url)}`);
      return;
    }
    if (!authorized(req.headers.authorization)) {
      problem(res, 401, 'a bearer token is required (Authorization: Bearer TOKEN)', {
        'www-authenticate': 'Bearer realm="hopscope"',
      });
      return;
    }
    if (!ROUTES.has(url.pathname)) {
      problem(
        res,
        404,
        `no such resource: ${url.pathname} (try /snapshot, /events, /metrics, /healthz, /hops)`,
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      problem(res, 405, `${req.method} is not allowed: the API is read-only`, { allow: 'GET, HEAD' });
      return;
    }
    const head = req.method === 'HEAD';
    switch (url.pathname) {
      case '/events':
        if (head) {
          res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
          res.end();
        } else openEvents(req, res, url);
        return;
      case '/metrics': {
        const { contentType, body } = await handlers.metrics();
        res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
        res.end(head ? undefined : body);
        return;
      }
      case '/healthz': {
        const { ok, body } = handlers.health();
        sendJson(res, ok ? 200 : 503, body, head);
        return;
      }
      default: {
        const body = url.pathname === '/snapshot' ? handlers.snapshot() : handlers.hops();
        if (body === null) problem(res, 503, 'the capture has not started yet', { 'retry-after': '1' });
        else sendJson(res, 200, body, head);
      }
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      log.error({ err: error.message, url: req.url }, 'a request failed');
      if (!res.headersSent) problem(res, 500, 'internal error');
      else res.destroy();
    });
  });
  // Bounds for clients that connect and never finish a request (slowloris).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.maxConnections = MAX_SSE_CLIENTS + 64;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      server.on('error', (error) => log.error({ err: error.message }, 'the HTTP server failed'));
      resolve({
        server,
        address() {
          const a = server.address() as AddressInfo;
          return { host: a.address, port: a.port };
        },
        broadcast(events) {
          if (events.length === 0) return;
          const text = events.map(sseEvent).join('');
          for (const res of clients) write(res, text);
        },
        clients: () => clients.size,
        close() {
          for (const res of clients) res.end();
          clients.clear();
          return new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          });
        },
      });
    });
  });
}
