// A Server-Sent Events client for tests: parses the stream as the EventSource spec does (id, event,
// data lines; comments ignored) and keeps every event and comment it saw.
import { request } from 'node:http';

export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

export interface SseClient {
  events: SseEvent[];
  comments: number;
  status: number;
  /** Resolves once `count` events arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<SseEvent[]>;
  close(): void;
}

export function connectSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const client: SseClient = {
        events: [],
        comments: 0,
        status: res.statusCode ?? 0,
        waitFor(count, timeoutMs = 10_000) {
          return new Promise((done, fail) => {
            const started = Date.now();
            const check = () => {
              if (client.events.length >= count) done(client.events.slice(0, count));
              else if (Date.now() - started > timeoutMs)
                fail(new Error(`${client.events.length} events of ${count} after ${timeoutMs} ms`));
              else setTimeout(check, 10);
            };
            check();
          });
        },
        close: () => req.destroy(),
      };
      let buffer = '';
      let current: SseEvent = { id: null, event: 'message', data: '' };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            if (current.data !== '' || current.id !== null) client.events.push(current);
            current = { id: null, event: 'message', data: '' };
          } else if (line.startsWith(':')) client.comments++;
          else {
            const colon = line.indexOf(':');
            const field = line.slice(0, colon);
            const value = line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') current.id = value;
            else if (field === 'event') current.event = value;
            else if (field === 'data') current.data += current.data === '' ? value : `\n${value}`;
          }
          newline = buffer.indexOf('\n');
        }
      });
      res.on('error', () => {});
      resolve(client);
    });
    req.on('error', reject);
    req.end();
  });
}
