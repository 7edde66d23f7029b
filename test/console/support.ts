// Helpers of the console's tests: a fake target that records what it is asked, and HTTP calls.
import type { ConsoleTarget, RunnerStatus } from '../../src';

/** A target with one leader (Worlds) and one process (Counters) in pipelines 0 and 1; it records calls. */
export function fakeTarget(status: () => RunnerStatus = () => fakeStatus(0)) {
  const calls: unknown[][] = [];
  const target: ConsoleTarget = {
    system: { applicationNames: ['Worlds', 'Counters'], followsOf: (name) => (name === 'Counters' ? ['Worlds'] : []) },
    pipelineIds: [0, 1],
    status: async () => status(),
    restart: async (...args) => {
      calls.push(['restart', ...args]);
    },
    skip: async (...args) => {
      calls.push(['skip', ...args]);
      return args[3];
    },
  };
  return { target, calls };
}

export function fakeStatus(position: number): RunnerStatus {
  return {
    pipelines: [
      {
        pipelineId: 0,
        processes: [
          {
            applicationName: 'Counters',
            kind: 'process',
            pipelineId: 0,
            state: 'failed',
            restarts: 3,
            runs: 4,
            pending: false,
            upstreams: [{ upstreamName: 'Worlds', position, head: 10, lag: 10 - position }],
            lag: 10 - position,
            lastError: { error: new Error('refused'), message: 'Counters failed on 3', at: 1, upstreamName: 'Worlds', notificationId: position + 1, pipelineId: 0 },
          },
        ],
      },
    ],
  };
}

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

export async function call(url: string, path: string, init: { method?: string; token?: string; body?: unknown; raw?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(new URL(path, url), {
    method: init.method ?? (init.body !== undefined || init.raw !== undefined ? 'POST' : 'GET'),
    headers,
    body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
  });
  const text = await response.text();
  return { status: response.status, body: response.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : { text }, headers: response.headers };
}

/** Reads Server-Sent Events from `url` until `count` events named `status` came; returns their data. */
export async function statusEvents(url: string, count: number): Promise<unknown[]> {
  const controller = new AbortController();
  const response = await fetch(new URL('events', url), { signal: controller.signal });
  if (response.headers.get('content-type')?.startsWith('text/event-stream') !== true) throw new Error('not an event stream');
  const events: unknown[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const name = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (name === 'status' && data !== undefined) events.push(JSON.parse(data));
        if (events.length >= count) return events;
      }
    }
  } finally {
    controller.abort();
  }
  throw new Error(`the stream ended after ${events.length} events`);
}
