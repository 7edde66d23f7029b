// The HTTP example (examples/http) end to end: the real server on a free loopback port, spoken to
// over HTTP with Node's fetch; and the server as a process of its own, drained by SIGTERM/SIGINT.
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validate as isUuid } from 'uuid';
import { Counters } from '../../examples/worlds/counters';
import { WorldsApplication } from '../../examples/worlds/domain';
import { createServer, type HttpService, type Logger } from '../../examples/http/server';
import { errorsAsMessages } from '../../examples/http/http-io';

const ROOT = join(__dirname, '..', '..');
const SERVER = join(ROOT, 'examples', 'http', 'server.ts');

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

/** Sends a request: an object body goes as JSON, a string body as it is (with the headers given). */
async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (typeof body === 'string') init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return { status: response.status, headers: response.headers, body: JSON.parse(text) };
}

/** Polls `GET /counts/:what` until the count is `expected` (at most `timeoutMs`). */
async function countReaches(base: string, what: string, expected: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await call(base, 'GET', `/counts/${encodeURIComponent(what)}`);
    expect(status).toBe(200);
    expect(body.what).toBe(what);
    if (body.count === expected) return;
    if (body.count > expected || Date.now() > deadline) throw new Error(`the count of '${what}' is ${body.count}, not ${expected}`);
    await sleep(10);
  }
}

/** Polls `GET /status` until `predicate` holds (at most `timeoutMs`). */
async function statusWhen(base: string, predicate: (status: any) => boolean, timeoutMs = 5_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await call(base, 'GET', '/status');
    expect(status).toBe(200);
    if (predicate(body)) return body;
    if (Date.now() > deadline) throw new Error(`the status never matched; last: ${JSON.stringify(body)}`);
    await sleep(10);
  }
}

const counters = (status: any) => status.pipelines[0].processes[0];

/** A logger that keeps what it is given. */
function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (line) => lines.push(line), error: (line) => lines.push(line) };
}

describe('the HTTP example, over SQLite', () => {
  let directory: string;
  let service: HttpService;
  let base: string;
  const log = capturingLogger();

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'es-http-'));
    service = createServer({ env: { PERSISTENCE: 'sqlite', SQLITE_DBNAME: join(directory, 'http.sqlite') }, port: 0, log });
    const address = await service.listen();
    expect(address).toEqual({ host: '127.0.0.1', port: expect.any(Number), url: `http://127.0.0.1:${address.port}` });
    expect(address.port).toBeGreaterThan(0);
    base = address.url;
  });

  afterAll(async () => {
    await service?.close();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('creates a world, makes it so, shows its history, and counts what happened', async () => {
    const created = await call(base, 'POST', '/worlds');
    expect(created.status).toBe(201);
    const { id } = created.body;
    expect(isUuid(id)).toBe(true);
    expect(created.headers.get('location')).toBe(`/worlds/${id}`);

    const things = ['dinosaurs', 'trucks', 'dinosaurs', 'internet', 'dinosaurs'];
    for (const what of things) {
      const made = await call(base, 'POST', `/worlds/${id}/things`, { what });
      expect(made).toMatchObject({ status: 202, body: { id, what } });
    }

    const history = await call(base, 'GET', `/worlds/${id}/history`);
    expect(history).toMatchObject({ status: 200, body: { id, history: things } });
    // Ids are UUIDs in any case.
    expect((await call(base, 'GET', `/worlds/${id.toUpperCase()}/history`)).body).toEqual({ id, history: things });

    await countReaches(base, 'dinosaurs', 3);
    await countReaches(base, 'trucks', 1);
    await countReaches(base, 'internet', 1);
    expect((await call(base, 'GET', '/counts/never%20happened')).body).toEqual({ what: 'never happened', count: 0 });
  });

  it('shows the runner status: pipelines, processes with state and upstreams', async () => {
    const { body: created } = await call(base, 'POST', '/worlds');
    await call(base, 'POST', `/worlds/${created.id}/things`, { what: 'jazz' });
    const status = await statusWhen(base, (s) => counters(s)?.lag === 0);
    expect(status).toEqual({
      pipelines: [
        {
          pipelineId: 0,
          processes: [
            {
              pipelineId: 0,
              applicationName: 'Counters',
              kind: 'process',
              state: expect.stringMatching(/^(idle|running)$/),
              restarts: 0,
              runs: expect.any(Number),
              pending: expect.any(Boolean),
              lag: 0,
              upstreams: [{ upstreamName: 'WorldsApplication', position: expect.any(Number), head: expect.any(Number), lag: 0 }],
            },
          ],
        },
      ],
    });
    const [upstream] = counters(status).upstreams;
    expect(upstream.position).toBe(upstream.head);
    expect(upstream.head).toBeGreaterThanOrEqual(2);
  });

  describe('answers bad requests with 4xx and a JSON message', () => {
    let id: string;
    beforeAll(async () => {
      id = (await call(base, 'POST', '/worlds')).body.id;
    });

    it.each([
      ['malformed JSON', '{"what": "dinosaurs"', /not valid JSON/],
      ['a body that is not an object', '["dinosaurs"]', /must be a JSON object/],
      ['JSON null', 'null', /must be a JSON object/],
      ['no body', '', /must be a JSON object/],
      ["no 'what'", '{"where": "here"}', /'what' is required/],
      ["a blank 'what'", '{"what": " \\t "}', /'what' must not be blank/],
      ["an empty 'what'", '{"what": ""}', /'what' must not be blank/],
      ["a number for 'what'", '{"what": 42}', /'what' must be a string, got number/],
      ["an object for 'what'", '{"what": {"name": "dinosaurs"}}', /'what' must be a string, got object/],
    ])('400 for %s', async (_case, body, message) => {
      const answer = await call(base, 'POST', `/worlds/${id}/things`, body, { 'content-type': 'application/json' });
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ error: expect.stringMatching(message) });
    });

    it('400 for a body that is not UTF-8', async () => {
      const response = await fetch(`${base}/worlds/${id}/things`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'the request body is not valid UTF-8' });
    });

    it('413 for a body over 64 KiB, and nothing is recorded', async () => {
      const what = 'x'.repeat(64 * 1024);
      const answer = await call(base, 'POST', `/worlds/${id}/things`, { what });
      expect(answer.status).toBe(413);
      expect(answer.body).toEqual({ error: 'the request body is larger than the limit of 65536 bytes' });
      // Without Content-Length (chunked), it is refused as the bytes arrive.
      const chunked = await fetch(`${base}/worlds/${id}/things`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new Blob([JSON.stringify({ what })]).stream(),
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);
      expect(await chunked.json()).toEqual({ error: 'the request body is larger than the limit of 65536 bytes' });
      expect((await call(base, 'GET', `/worlds/${id}/history`)).body.history).toEqual([]);
    });

    it('415 for a body that is not declared as JSON', async () => {
      const answer = await call(base, 'POST', `/worlds/${id}/things`, '{"what": "dinosaurs"}', { 'content-type': 'text/plain' });
      expect(answer.status).toBe(415);
      expect(answer.body.error).toMatch(/must be JSON/);
    });

    it.each([
      ['GET', '/'],
      ['GET', '/nowhere'],
      ['GET', '/worlds/'],
      ['GET', '/worlds/x/y/z'],
      ['POST', '/counts'],
      ['GET', '/status/'],
    ])('404 for %s %s', async (method, path) => {
      const answer = await call(base, method, path);
      expect(answer.status).toBe(404);
      expect(answer.body).toEqual({ error: `no route for ${method} ${path}` });
    });

    it('404 for a world that does not exist', async () => {
      const nobody = '5b7b3c3e-1b7e-4b7e-9b7e-000000000000';
      expect(await call(base, 'GET', `/worlds/${nobody}/history`)).toMatchObject({
        status: 404,
        body: { error: `there is no world ${nobody}` },
      });
      expect(await call(base, 'POST', `/worlds/${nobody}/things`, { what: 'dinosaurs' })).toMatchObject({
        status: 404,
        body: { error: `there is no world ${nobody}` },
      });
    });

    it.each([
      ['GET', '/worlds', 'POST'],
      ['DELETE', '/worlds', 'POST'],
      ['GET', '/worlds/ID/things', 'POST'],
      ['POST', '/worlds/ID/history', 'GET'],
      ['PUT', '/counts/dinosaurs', 'GET'],
      ['POST', '/status', 'GET'],
    ])('405 with Allow for %s %s', async (method, path, allowed) => {
      const answer = await call(base, method, path.replace('ID', id));
      expect(answer.status).toBe(405);
      expect(answer.headers.get('allow')).toBe(allowed);
      expect(answer.body.error).toMatch(new RegExp(`^${method} is not allowed on .* \\(allowed: ${allowed}\\)$`));
    });

    it.each([
      ['HEAD', '/status', 'GET'],
      ['PROPFIND', '/worlds', 'POST'],
    ])('405 for %s %s too: every method Node parses is routed', async (method, path, allowed) => {
      const response = await fetch(`${base}${path}`, { method });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe(allowed);
    });

    it.each([
      ['GET', '/worlds//history'],
      ['POST', '/worlds//things'],
      ['GET', '/counts/'],
    ])('404 for %s %s: a parameter is one segment that is not empty', async (method, path) => {
      expect(await call(base, method, path)).toMatchObject({ status: 404, body: { error: `no route for ${method} ${path}` } });
    });

    it('reads no body where there is no route, checks the id before the body, and answers a request in absolute form', async () => {
      expect(await call(base, 'POST', '/nowhere', '{not json', { 'content-type': 'text/plain' })).toMatchObject({ status: 404 });
      const both = await call(base, 'POST', '/worlds/nope/things', '{not json', { 'content-type': 'application/json' });
      expect(both).toMatchObject({ status: 400, body: { error: "'nope' is not a world id (a UUID)" } });
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(base).port), '127.0.0.1', () =>
          socket.write(`GET http://example.com/worlds/${id}/history?x=1 HTTP/1.1\r\nhost: example.com\r\nconnection: close\r\n\r\n`),
        );
        let text = '';
        socket.on('data', (chunk) => (text += chunk));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(JSON.parse(raw.split('\r\n\r\n')[1])).toEqual({ id, history: [] });
    });

    it('says no-store on every answer, errors included', async () => {
      for (const path of ['/status', '/nowhere', '/counts/%E0%A4%A']) {
        expect((await fetch(`${base}${path}`)).headers.get('cache-control')).toBe('no-store');
      }
    });

    it.each([
      ['GET', '/worlds/not-a-uuid/history'],
      ['POST', '/worlds/not-a-uuid/things'],
      ['GET', `/worlds/${'1'.repeat(36)}/history`],
    ])('400 for an id that is not a UUID: %s %s', async (method, path) => {
      const answer = await call(base, method, path, method === 'POST' ? { what: 'dinosaurs' } : undefined);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatch(/is not a world id \(a UUID\)$/);
    });

    it('400 for a blank thing to count, and for bad percent-encoding', async () => {
      expect(await call(base, 'GET', '/counts/%20%20')).toMatchObject({ status: 400, body: { error: "'what' must not be blank" } });
      expect(await call(base, 'GET', '/counts/%E0%A4%A')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/percent-encoding/) } });
    });

    it('400 in JSON for what is not HTTP at all', async () => {
      const port = new URL(base).port;
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
        let text = '';
        socket.on('data', (chunk) => (text += chunk));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(JSON.parse(raw.split('\r\n\r\n')[1]).error).toMatch(/not valid HTTP/);
    });
  });

  it('answers 500 with a message when a command fails, and keeps serving', async () => {
    const { body: created } = await call(base, 'POST', '/worlds');
    const worlds = service.runner.get(WorldsApplication);
    const spy = jest.spyOn(worlds, 'getWorldHistory').mockRejectedValueOnce(new Error('the disk is on fire'));
    try {
      const failed = await call(base, 'GET', `/worlds/${created.id}/history`);
      expect(failed).toMatchObject({ status: 500, body: { error: 'internal server error: the disk is on fire' } });
      expect(log.lines.some((line) => line.includes('the disk is on fire'))).toBe(true);
      expect(await call(base, 'GET', `/worlds/${created.id}/history`)).toMatchObject({ status: 200, body: { history: [] } });
    } finally {
      spy.mockRestore();
    }
  });
});

describe('the HTTP example, over memory', () => {
  it('shows a failing process in /status with its error as a message, then counts once it recovers', async () => {
    const service = createServer({ env: { PERSISTENCE: 'memory' }, port: 0, runner: { supervision: { minBackoffMs: 20 } }, log: capturingLogger() });
    try {
      const { url } = await service.listen();
      const policy = jest.spyOn(service.runner.get(Counters), 'policy').mockRejectedValueOnce(new Error('the policy is on fire'));
      const { body: created } = await call(url, 'POST', '/worlds');
      await call(url, 'POST', `/worlds/${created.id}/things`, { what: 'volcanoes' });
      await countReaches(url, 'volcanoes', 1);
      expect(policy).toHaveBeenCalled();
      const process = counters(await statusWhen(url, (s) => counters(s).lag === 0));
      expect(process.restarts).toBeGreaterThanOrEqual(1);
      expect(typeof process.lastError.error).toBe('string'); // an Error, serialised as its message
      expect(process.lastError.error).toMatch(/the policy is on fire/);
    } finally {
      await service.close();
    }
    expect(JSON.stringify({ error: new Error('boom'), nested: [new TypeError('bang')] }, errorsAsMessages)).toBe('{"error":"boom","nested":["bang"]}');
  });

  it('drains on close: the request in flight is answered, new connections are refused, the runner stops', async () => {
    const service = createServer({ env: { PERSISTENCE: 'memory' }, port: 0, log: capturingLogger() });
    const { url } = await service.listen();
    const worlds = service.runner.get(WorldsApplication);
    const { body: created } = await call(url, 'POST', '/worlds');

    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let entered!: () => void;
    const inFlight = new Promise<void>((resolve) => (entered = resolve));
    const makeItSo = worlds.makeItSo.bind(worlds);
    jest.spyOn(worlds, 'makeItSo').mockImplementation(async (id, what) => {
      entered();
      await gate;
      await makeItSo(id, what);
    });

    const pending = call(url, 'POST', `/worlds/${created.id}/things`, { what: 'slowly' });
    await inFlight;
    let closed = false;
    const closing = service.close().then(() => (closed = true));
    expect(service.close()).toBe(service.close()); // one drain, however often it is asked for
    await sleep(50);
    expect(closed).toBe(false); // the request in flight holds it
    expect(service.server.listening).toBe(false);
    expect(service.runner.isRunning).toBe(true);
    // A new request is refused (connection refused or closed), or answered 503 on a connection it reused.
    const late = await fetch(`${url}/status`).then(
      (response) => response.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(late);

    open();
    const answer = await pending;
    expect(answer).toMatchObject({ status: 202, body: { id: created.id, what: 'slowly' } });
    expect(answer.headers.get('connection')).toBe('close');
    await closing;
    expect(service.runner.isRunning).toBe(false);
    await expect(service.listen()).rejects.toThrow('this server was closed');
  });

  it('cuts off a request still in flight after the drain timeout, and still stops the runner', async () => {
    const log = capturingLogger();
    const service = createServer({ env: { PERSISTENCE: 'memory' }, port: 0, drainTimeoutMs: 50, log });
    const { url } = await service.listen();
    const worlds = service.runner.get(WorldsApplication);
    const { body: created } = await call(url, 'POST', '/worlds');
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let entered!: () => void;
    const inFlight = new Promise<void>((resolve) => (entered = resolve));
    jest.spyOn(worlds, 'getWorldHistory').mockImplementation(async () => {
      entered();
      await gate;
      return ['too late'];
    });
    const pending = fetch(`${url}/worlds/${created.id}/history`).then(
      (response) => response.status,
      () => 'cut off',
    );
    await inFlight;
    const closing = service.close();
    expect(await pending).toBe('cut off');
    expect(log.lines.join('\n')).toMatch(/1 request\(s\) still in flight after the drain timeout/);
    open(); // the runner's stop waits for the command its actor is running
    await closing;
    expect(service.runner.isRunning).toBe(false);
  });
});

describe('the HTTP example as a process', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'es-http-process-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  interface Running {
    readonly child: ChildProcessWithoutNullStreams;
    readonly url: string;
    readonly output: { stdout: string; stderr: string };
  }

  /** Starts `examples/http/server.ts` as Node with tsx, and waits for its "listening" line. */
  async function startServer(): Promise<Running> {
    const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', PERSISTENCE: 'sqlite', SQLITE_DBNAME: join(directory, 'http.sqlite') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const output = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk) => (output.stdout += chunk));
    child.stderr.on('data', (chunk) => (output.stderr += chunk));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`no "listening" line within 10 s; stdout: ${output.stdout}; stderr: ${output.stderr}`));
      }, 10_000);
      const onData = () => {
        const match = /listening on (http:\/\/\S+)/.exec(output.stdout);
        if (match === null) return;
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(match[1]);
      };
      child.stdout.on('data', onData);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the server exited (${code ?? signal}) before listening; stderr: ${output.stderr}`));
      });
    });
    return { child, url, output };
  }

  /** Sends `signal` and resolves with the exit code (or a description of what went wrong). */
  function stopWith(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals, timeoutMs = 5_000): Promise<number | string> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(`still running ${timeoutMs} ms after ${signal}`);
      }, timeoutMs);
      child.on('exit', (code, exitSignal) => {
        clearTimeout(timer);
        resolve(code ?? `killed by ${exitSignal}`);
      });
      child.kill(signal);
    });
  }

  it('drains and exits with 0 on SIGTERM, and carries on from its SQLite file (then exits with 0 on SIGINT)', async () => {
    const first = await startServer();
    let id: string;
    try {
      const created = await call(first.url, 'POST', '/worlds');
      expect(created.status).toBe(201);
      id = created.body.id;
      expect((await call(first.url, 'POST', `/worlds/${id}/things`, { what: 'dinosaurs' })).status).toBe(202);
      await countReaches(first.url, 'dinosaurs', 1);
    } finally {
      const exited = await stopWith(first.child, 'SIGTERM');
      expect({ exited, stderr: first.output.stderr }).toEqual({ exited: 0, stderr: '' });
    }
    expect(first.output.stdout).toMatch(/listening on .*\nSIGTERM: draining\nstopped\n$/);

    const second = await startServer();
    try {
      expect(await call(second.url, 'GET', `/worlds/${id}/history`)).toMatchObject({ status: 200, body: { id, history: ['dinosaurs'] } });
      expect((await call(second.url, 'GET', '/counts/dinosaurs')).body).toEqual({ what: 'dinosaurs', count: 1 });
    } finally {
      const exited = await stopWith(second.child, 'SIGINT');
      expect({ exited, stderr: second.output.stderr }).toEqual({ exited: 0, stderr: '' });
    }
  });
});
