// The console's HTTP API over a fake target: reads are open, actions need the token, bad requests
// are refused with a message and change nothing, and /events streams status snapshots.
import { ConfigurationError, startConsole, type ConsoleServer } from '../../src';
import { call, fakeStatus, fakeTarget, statusEvents } from './support';

describe('the console HTTP API', () => {
  const servers: ConsoleServer[] = [];
  const serve = async (...args: Parameters<typeof startConsole>) => {
    const server = await startConsole(...args);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  it('refuses to start without a token, unless token: false asks for a read-only console', async () => {
    const { target } = fakeTarget();
    await expect(startConsole(target, { port: 0 } as never)).rejects.toThrow(
      new ConfigurationError(
        "the console needs a token, which its actions (restart, skip) must bear: pass token: '<a secret>', or token: false for a read-only console",
      ),
    );
    await expect(startConsole(target, { port: 0, token: '  ' })).rejects.toThrow(ConfigurationError);
    await expect(startConsole(target, { port: 70_000, token: 't' })).rejects.toThrow(/port must be an integer from 0 to 65535/);
    const server = await serve(target, { port: 0, token: false });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.port).toBeGreaterThan(0);
  });

  it('serves the page, the topology and the status to anyone (loopback only by default)', async () => {
    const { target } = fakeTarget();
    const server = await serve(target, { port: 0, token: 'secret' });
    const page = await call(server.url, '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.body.text).toContain('<svg id="topology"');
    const topology = await call(server.url, '/topology');
    expect(topology.body).toMatchObject({
      nodes: [
        { name: 'Worlds', depth: 0, follows: false },
        { name: 'Counters', depth: 1, follows: true },
      ],
      edges: [{ from: 'Worlds', to: 'Counters', back: false }],
    });
    const status = await call(server.url, '/status');
    expect(status.body).toMatchObject({
      processes: [
        {
          applicationName: 'Counters',
          kind: 'process',
          state: 'failed',
          lag: 10,
          upstreams: [{ upstreamName: 'Worlds', position: 0, head: 10, lag: 10 }],
          lastError: { message: 'Counters failed on 3', name: 'Error', upstreamName: 'Worlds', notificationId: 1 },
        },
      ],
    });
    expect((await call(server.url, '/nothing')).status).toBe(404);
    expect((await call(server.url, '/status', { method: 'DELETE' })).status).toBe(405);
  });

  it('does an action only with the right token: 401 without it, 403 on a read-only console', async () => {
    const { target, calls } = fakeTarget();
    const server = await serve(target, { port: 0, token: 'secret' });
    const restart = { applicationName: 'Counters', pipelineId: 1 };
    const refused = await call(server.url, '/api/restart', { body: restart });
    expect(refused).toMatchObject({ status: 401, body: { error: expect.stringContaining('Authorization: Bearer') } });
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    expect((await call(server.url, '/api/restart', { body: restart, token: 'wrong' })).status).toBe(401);
    expect((await call(server.url, '/api/skip', { body: {}, token: 'secrets' })).status).toBe(401);
    expect(calls).toEqual([]);

    expect(await call(server.url, '/api/restart', { body: restart, token: 'secret' })).toMatchObject({ status: 200, body: { restarted: restart } });
    const skip = { applicationName: 'Counters', pipelineId: 0, upstreamName: 'Worlds', notificationId: 3, reason: 'bad data' };
    expect(await call(server.url, '/api/skip', { body: skip, token: 'secret' })).toMatchObject({ status: 200, body: { skipped: 3 } });
    expect(calls).toEqual([
      ['restart', 'Counters', 1],
      ['skip', 'Counters', 0, 'Worlds', 3, 'bad data'],
    ]);
    expect((await call(server.url, '/api/skip', { method: 'GET' })).status).toBe(405);

    const readOnly = await serve(fakeTarget().target, { port: 0, token: false });
    expect(await call(readOnly.url, '/api/restart', { body: restart, token: 'secret' })).toMatchObject({
      status: 403,
      body: { error: 'this console is read-only: it was started with token: false' },
    });
  });

  it('refuses bad requests with 400 and a message, and does nothing', async () => {
    const { target, calls } = fakeTarget();
    const server = await serve(target, { port: 0, token: 'secret' });
    const skip = { applicationName: 'Counters', pipelineId: 0, upstreamName: 'Worlds', notificationId: 3, reason: 'bad data' };
    const refusals: Array<[unknown, string | RegExp]> = [
      ['{not json', 'the body is not JSON'],
      [[1, 2], 'the body must be a JSON object'],
      [{ ...skip, applicationName: 'Nobody' }, 'applicationName must name an application of the system, got "Nobody"'],
      [{ ...skip, applicationName: 'Worlds' }, 'Worlds follows nothing: it has no process to act on'],
      [{ ...skip, pipelineId: 7 }, 'pipelineId must be one this runner runs (0, 1), got 7'],
      [{ ...skip, pipelineId: '0' }, /pipelineId must be one this runner runs/],
      [{ ...skip, upstreamName: 'Counters' }, 'upstreamName must be one that Counters follows (Worlds), got "Counters"'],
      [{ ...skip, notificationId: 0 }, /notificationId must be the id/],
      [{ ...skip, notificationId: undefined }, /notificationId must be the id/],
      [{ ...skip, reason: ' ' }, 'a skip needs a reason (a non-empty string)'],
    ];
    for (const [body, message] of refusals) {
      const answer = await call(server.url, '/api/skip', { token: 'secret', ...(typeof body === 'string' ? { raw: body } : { body }) });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toEqual(typeof message === 'string' ? message : expect.stringMatching(message));
    }
    expect((await call(server.url, '/api/restart', { token: 'secret', body: { applicationName: 'Counters' } })).status).toBe(400);
    expect(calls).toEqual([]);
  });

  it("answers a runner's refusal with 409 and its message", async () => {
    const { target } = fakeTarget();
    const { SkipError } = await import('../../src');
    target.skip = async () => {
      throw new SkipError('Counters cannot skip notification 3 of Worlds (pipeline 0): the next notification is 4');
    };
    const server = await serve(target, { port: 0, token: 'secret' });
    const skip = { applicationName: 'Counters', pipelineId: 0, upstreamName: 'Worlds', notificationId: 3, reason: 'stale' };
    expect(await call(server.url, '/api/skip', { body: skip, token: 'secret' })).toEqual(
      expect.objectContaining({ status: 409, body: { error: 'Counters cannot skip notification 3 of Worlds (pipeline 0): the next notification is 4' } }),
    );
  });

  it('streams a status snapshot about every intervalMs over Server-Sent Events', async () => {
    let position = 0;
    const { target } = fakeTarget(() => fakeStatus(position++));
    const server = await serve(target, { port: 0, token: 'secret', intervalMs: 20 });
    const events = (await statusEvents(server.url, 3)) as Array<{ at: number; processes: Array<{ upstreams: Array<{ position: number }> }> }>;
    const positions = events.map((event) => event.processes[0].upstreams[0].position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(new Set(positions).size).toBe(3);
    expect(events[2].at).toBeGreaterThanOrEqual(events[0].at);
    // Two clients share the reads; a client that joins gets the newest snapshot at once.
    const [first, second] = await Promise.all([statusEvents(server.url, 2), statusEvents(server.url, 2)]);
    expect(first).toHaveLength(2);
    expect(second).toHaveLength(2);
  });
});
