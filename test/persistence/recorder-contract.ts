/**
 * The recorder contract, written once and run against every persistence module (memory, SQLite,
 * PostgreSQL). A module's test file supplies a harness that makes fresh, empty stores.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AggregateRecorder,
  ApplicationRecorder,
  DataError,
  Notification,
  ProcessRecorder,
  RecordConflictError,
  StoredEvent,
  TrackingConflictError,
} from '../../src/persistence';

export interface RecorderHarness {
  /** Whether what is written survives closing and reopening (false for memory). */
  readonly durable: boolean;
  /** Makes a fresh, empty store (a new file, schema or object). */
  setUp(): Promise<void>;
  /** Closes every recorder the harness opened and removes the store. */
  tearDown(): Promise<void>;
  /** Each call opens a new connection to the store (memory: the same recorder for the same name). */
  aggregateRecorder(applicationName: string): Promise<AggregateRecorder>;
  applicationRecorder(applicationName: string): Promise<ApplicationRecorder>;
  processRecorder(applicationName: string): Promise<ProcessRecorder>;
  /** Closes the recorders opened so far (keeping the store), for restart checks. */
  closeAll(): Promise<void>;
}

let counter = 0;
export function uniqueId(prefix = 'agg'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

export function stored(originatorId: string, originatorVersion: number, topic = 'Test.Event', body = ''): StoredEvent {
  return {
    originatorId,
    originatorVersion,
    topic,
    state: Buffer.from(JSON.stringify({ body: body || `${originatorId}:${originatorVersion}` })),
  };
}

function stateText(event: StoredEvent): string {
  return Buffer.from(event.state).toString('utf8');
}

export function recorderContract(moduleName: string, makeHarness: () => RecorderHarness): void {
  describe(`${moduleName} recorders: the shared contract`, () => {
    const harness = makeHarness();
    beforeEach(() => harness.setUp());
    afterEach(() => harness.tearDown());

    describe('AggregateRecorder', () => {
      it('selects an aggregate’s events in version order, with ranges, descending order and limits', async () => {
        const recorder = await harness.aggregateRecorder('snapshots_app');
        const id = uniqueId();
        await recorder.insertEvents([stored(id, 1), stored(id, 2)]);
        await recorder.insertEvents([stored(id, 3), stored(id, 4), stored(id, 5)]);
        const all = await recorder.selectEvents(id);
        expect(all.map((e) => e.originatorVersion)).toEqual([1, 2, 3, 4, 5]);
        expect(all.map((e) => e.topic)).toEqual(['Test.Event', 'Test.Event', 'Test.Event', 'Test.Event', 'Test.Event']);
        expect(stateText(all[2])).toBe(stateText(stored(id, 3)));
        expect(Buffer.isBuffer(all[0].state) || all[0].state instanceof Uint8Array).toBe(true);
        expect((await recorder.selectEvents(id, { gt: 2 })).map((e) => e.originatorVersion)).toEqual([3, 4, 5]);
        expect((await recorder.selectEvents(id, { lte: 2 })).map((e) => e.originatorVersion)).toEqual([1, 2]);
        expect((await recorder.selectEvents(id, { gt: 1, lte: 3 })).map((e) => e.originatorVersion)).toEqual([2, 3]);
        expect((await recorder.selectEvents(id, { desc: true, limit: 2 })).map((e) => e.originatorVersion)).toEqual([5, 4]);
        expect((await recorder.selectEvents(id, { desc: true, lte: 3, limit: 1 })).map((e) => e.originatorVersion)).toEqual([3]);
        expect((await recorder.selectEvents(id, { limit: 2 })).map((e) => e.originatorVersion)).toEqual([1, 2]);
        expect(await recorder.selectEvents(uniqueId('missing'))).toEqual([]);
      });

      it('refuses a version already recorded with RecordConflictError and keeps nothing of that write', async () => {
        const recorder = await harness.aggregateRecorder('conflicts');
        const a = uniqueId();
        const b = uniqueId();
        await recorder.insertEvents([stored(a, 1)]);
        await expect(recorder.insertEvents([stored(b, 1), stored(a, 2), stored(a, 1, 'Test.Event', 'loser')])).rejects.toThrow(
          RecordConflictError,
        );
        expect(await recorder.selectEvents(b)).toEqual([]);
        expect((await recorder.selectEvents(a)).map((e) => [e.originatorVersion, stateText(e)])).toEqual([
          [1, stateText(stored(a, 1))],
        ]);
      });

      it('refuses a batch that records one version twice', async () => {
        const recorder = await harness.aggregateRecorder('batch_conflicts');
        const a = uniqueId();
        await expect(recorder.insertEvents([stored(a, 1), stored(a, 1)])).rejects.toThrow(RecordConflictError);
        expect(await recorder.selectEvents(a)).toEqual([]);
      });

      it('refuses a batch that records one version twice with the same message on every store, before writing', async () => {
        const recorder = await harness.aggregateRecorder('batch_twice');
        const [a, b] = [uniqueId(), uniqueId()];
        const twice = [stored(b, 1), stored(a, 2), stored(a, 3), stored(a, 2, 'Test.Event', 'again')];
        await expect(recorder.insertEvents(twice)).rejects.toThrow(RecordConflictError);
        await expect(recorder.insertEvents(twice)).rejects.toThrow(
          new RegExp(`: version 2 of aggregate ${a} is already recorded: this write has it twice$`),
        );
        expect(await recorder.selectEvents(a)).toEqual([]);
        expect(await recorder.selectEvents(b)).toEqual([]);
        // Versions of one aggregate in any order are one write, as long as none repeats.
        await recorder.insertEvents([stored(a, 3), stored(b, 1), stored(a, 1), stored(a, 2)]);
        expect((await recorder.selectEvents(a)).map((e) => e.originatorVersion)).toEqual([1, 2, 3]);
      });

      it('records the events of several aggregates in one write atomically', async () => {
        const recorder = await harness.aggregateRecorder('atomic');
        const [a, b, c] = [uniqueId(), uniqueId(), uniqueId()];
        await recorder.insertEvents([stored(a, 1), stored(b, 1), stored(c, 1), stored(a, 2)]);
        expect((await recorder.selectEvents(a)).length).toBe(2);
        expect((await recorder.selectEvents(b)).length).toBe(1);
        expect((await recorder.selectEvents(c)).length).toBe(1);
      });

      it('lets exactly one of two concurrent writers of the same version win', async () => {
        const first = await harness.aggregateRecorder('racers');
        const second = await harness.aggregateRecorder('racers');
        for (let round = 0; round < 10; round++) {
          const id = uniqueId('race');
          const results = await Promise.allSettled([
            first.insertEvents([stored(id, 1, 'Test.Event', 'first'), stored(id, 2, 'Test.Event', 'first')]),
            second.insertEvents([stored(id, 1, 'Test.Event', 'second'), stored(id, 2, 'Test.Event', 'second')]),
          ]);
          const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
          expect(rejected.length).toBe(1);
          expect(rejected[0].reason).toBeInstanceOf(RecordConflictError);
          const events = await first.selectEvents(id);
          expect(events.length).toBe(2);
          const winner = results[0].status === 'fulfilled' ? 'first' : 'second';
          expect(events.map((e) => JSON.parse(stateText(e)).body)).toEqual([winner, winner]);
        }
      });

      it('rejects malformed stored events with DataError before writing anything', async () => {
        const recorder = await harness.aggregateRecorder('malformed');
        const id = uniqueId();
        const bad: unknown[] = [
          { ...stored(id, 1), originatorId: '' },
          { ...stored(id, 1), originatorVersion: 1.5 },
          { ...stored(id, 1), topic: '' },
          { ...stored(id, 1), state: 'not bytes' },
          null,
        ];
        for (const event of bad) {
          await expect(recorder.insertEvents([stored(id, 1), event as StoredEvent])).rejects.toThrow(DataError);
        }
        expect(await recorder.selectEvents(id)).toEqual([]);
      });

      it('stores binary state exactly, byte for byte', async () => {
        const recorder = await harness.aggregateRecorder('binary');
        const id = uniqueId();
        const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        await recorder.insertEvents([{ originatorId: id, originatorVersion: 1, topic: 'Bin', state: bytes }]);
        const [event] = await recorder.selectEvents(id);
        expect(Buffer.from(event.state).equals(bytes)).toBe(true);
      });
    });

    describe('ApplicationRecorder', () => {
      it('gives every recorded event a notification id, in the order of the writes', async () => {
        const recorder = await harness.applicationRecorder('notified');
        expect(await recorder.maxNotificationId()).toBe(0);
        expect(await recorder.selectNotifications(1, 10)).toEqual([]);
        const [a, b] = [uniqueId(), uniqueId()];
        const firstIds = await recorder.insertEvents([stored(a, 1), stored(b, 1)]);
        const secondIds = await recorder.insertEvents([stored(a, 2, 'Test.Other')]);
        expect(firstIds.length).toBe(2);
        expect(secondIds.length).toBe(1);
        const ids = [...firstIds, ...secondIds];
        expect([...ids].sort((x, y) => x - y)).toEqual(ids);
        const notifications = await recorder.selectNotifications(1, 10);
        expect(notifications.map((n) => n.id)).toEqual(ids);
        expect(notifications.map((n) => [n.originatorId, n.originatorVersion, n.topic])).toEqual([
          [a, 1, 'Test.Event'],
          [b, 1, 'Test.Event'],
          [a, 2, 'Test.Other'],
        ]);
        expect(notifications.every((n) => n.pipelineId === 0)).toBe(true);
        expect(stateText(notifications[1])).toBe(stateText(stored(b, 1)));
        expect(await recorder.maxNotificationId()).toBe(ids[2]);
      });

      it('selects notifications from a start, up to a limit and a stop, by topic, and after a position', async () => {
        const recorder = await harness.applicationRecorder('selecting');
        const ids: number[] = [];
        for (let i = 1; i <= 10; i++) {
          ids.push(...(await recorder.insertEvents([stored(uniqueId(), 1, i % 2 === 0 ? 'Even' : 'Odd')])));
        }
        const [first] = ids;
        expect((await recorder.selectNotifications(first, 3)).map((n) => n.id)).toEqual(ids.slice(0, 3));
        expect((await recorder.selectNotifications(ids[3], 3)).map((n) => n.id)).toEqual(ids.slice(3, 6));
        expect((await recorder.selectNotifications(ids[3], 3, { inclusiveOfStart: false })).map((n) => n.id)).toEqual(
          ids.slice(4, 7),
        );
        expect((await recorder.selectNotifications(0, 100, { inclusiveOfStart: false })).map((n) => n.id)).toEqual(ids);
        expect((await recorder.selectNotifications(first, 100, { stop: ids[4] })).map((n) => n.id)).toEqual(ids.slice(0, 5));
        expect((await recorder.selectNotifications(first, 100, { topics: ['Even'] })).map((n) => n.id)).toEqual(
          ids.filter((_, i) => i % 2 === 1),
        );
        expect((await recorder.selectNotifications(first, 2, { topics: ['Odd', 'Even'] })).map((n) => n.id)).toEqual(
          ids.slice(0, 2),
        );
        expect(await recorder.selectNotifications(ids[9], 10, { inclusiveOfStart: false })).toEqual([]);
      });

      it('rejects bad arguments to selectNotifications with DataError', async () => {
        const recorder = await harness.applicationRecorder('bad_select');
        await expect(recorder.selectNotifications(-1, 10)).rejects.toThrow(DataError);
        await expect(recorder.selectNotifications(1, 0)).rejects.toThrow(DataError);
        await expect(recorder.selectNotifications(1, 1.5)).rejects.toThrow(DataError);
        await expect(recorder.selectNotifications(1, 10, { pipelineId: -2 })).rejects.toThrow(DataError);
        await expect(recorder.selectNotifications(1, 10, { pipelineId: 2 ** 31 })).rejects.toThrow(DataError);
        await expect(recorder.selectNotifications(1, 10, { topics: ['Even', 7 as never] })).rejects.toThrow(
          'topics must be an array of strings',
        );
        await expect(recorder.selectNotifications(1, 10, { topics: 'Even' as never })).rejects.toThrow(DataError);
        await expect(recorder.maxNotificationId(2 ** 31)).rejects.toThrow(DataError);
      });

      it('takes pipeline ids from 0 to 2147483647 (an INTEGER column) on every store', async () => {
        const recorder = await harness.applicationRecorder('pipeline_bounds');
        const a = uniqueId();
        for (const pipelineId of [-1, 1.5, 2 ** 31, Number.NaN]) {
          await expect(recorder.insertEvents([stored(a, 1)], { pipelineId })).rejects.toThrow(
            'pipeline id must be an integer from 0 to 2147483647',
          );
        }
        expect(await recorder.selectEvents(a)).toEqual([]);
        const [id] = await recorder.insertEvents([stored(a, 1)], { pipelineId: 2 ** 31 - 1 });
        expect((await recorder.selectNotifications(0, 10, { pipelineId: 2 ** 31 - 1 })).map((n) => n.id)).toEqual([id]);
        expect(await recorder.maxNotificationId(2 ** 31 - 1)).toBe(id);
      });

      it('does not give a refused write notification ids', async () => {
        const recorder = await harness.applicationRecorder('refused');
        const a = uniqueId();
        await recorder.insertEvents([stored(a, 1)]);
        await expect(recorder.insertEvents([stored(uniqueId(), 1), stored(a, 1)])).rejects.toThrow(RecordConflictError);
        const notifications = await recorder.selectNotifications(0, 10);
        expect(notifications.map((n) => n.originatorId)).toEqual([a]);
      });

      it('records a pipeline id with each event and reads one pipeline’s log alone, in order', async () => {
        const recorder = await harness.applicationRecorder('pipelines');
        const written = new Map<number, number[]>([[0, []], [1, []], [2, []]]);
        for (let i = 0; i < 12; i++) {
          const pipelineId = i % 3;
          const ids = await recorder.insertEvents([stored(uniqueId(`p${pipelineId}`), 1)], { pipelineId });
          written.get(pipelineId)!.push(...ids);
        }
        for (const [pipelineId, ids] of written) {
          const log = await recorder.selectNotifications(0, 100, { pipelineId });
          expect(log.map((n) => n.id)).toEqual(ids);
          expect(log.every((n) => n.pipelineId === pipelineId)).toBe(true);
          expect(await recorder.maxNotificationId(pipelineId)).toBe(ids[ids.length - 1]);
          const afterSecond = await recorder.selectNotifications(ids[1], 2, { pipelineId, inclusiveOfStart: false });
          expect(afterSecond.map((n) => n.id)).toEqual(ids.slice(2, 4));
        }
        expect(await recorder.maxNotificationId(7)).toBe(0);
        expect((await recorder.selectNotifications(0, 100)).length).toBe(12);
      });

      it('records a group of writes at once, each accepted or refused on its own (group commit)', async () => {
        const recorder = await harness.applicationRecorder('grouped');
        const [taken, free, twice, pair] = [uniqueId(), uniqueId(), uniqueId(), uniqueId()];
        const [before] = await recorder.insertEvents([stored(taken, 1)]);
        const outcomes = await recorder.insertGroup([
          { events: [stored(free, 1), stored(free, 2)] },
          { events: [stored(pair, 1), stored(taken, 1)] }, // its second event's version is taken: none of it is kept
          { events: [stored(twice, 1)], options: { pipelineId: 3 } },
          { events: [stored(twice, 1)] }, // an earlier write of the group takes this version
          { events: [stored(free, 3)], options: { tracking: { applicationName: 'x', notificationId: 1, previousNotificationId: 0 } } },
          { events: [stored(free, 4)] },
        ]);
        expect(outcomes[1]).toBeInstanceOf(RecordConflictError);
        expect((outcomes[1] as Error).message).toMatch(new RegExp(`version 1 of aggregate ${taken} is already recorded`));
        expect(outcomes[3]).toBeInstanceOf(RecordConflictError);
        expect((outcomes[3] as Error).message).toMatch(new RegExp(`version 1 of aggregate ${twice} is already recorded`));
        expect(outcomes[4]).toBeInstanceOf(DataError); // a grouped write takes no tracking record
        const [first, third, last] = [outcomes[0], outcomes[2], outcomes[5]] as number[][];
        expect(first).toHaveLength(2);
        expect(first[1]).toBe(first[0] + 1); // a write's ids are contiguous
        for (const ids of [first, third, last]) for (const id of ids) expect(id).toBeGreaterThan(before);
        expect(await recorder.selectEvents(pair)).toEqual([]);
        expect((await recorder.selectEvents(free)).map((e) => e.originatorVersion)).toEqual([1, 2, 4]);
        expect((await recorder.selectEvents(twice)).length).toBe(1);
        const log = await recorder.selectNotifications(before, 100, { inclusiveOfStart: false });
        expect(log.map((n) => n.id).sort((a, b) => a - b)).toEqual([...first, ...third, ...last].sort((a, b) => a - b));
        expect(log.find((n) => n.originatorId === twice)?.pipelineId).toBe(3);
        expect(await recorder.insertGroup([])).toEqual([]);
      });

      it('keeps the logs of two applications in one store apart', async () => {
        const worlds = await harness.applicationRecorder('worlds');
        const others = await harness.applicationRecorder('others');
        await worlds.insertEvents([stored(uniqueId(), 1)]);
        expect(await others.selectNotifications(0, 10)).toEqual([]);
        expect(await others.maxNotificationId()).toBe(0);
      });

      it('shows a write to a reader told of it as soon as the write returns, whatever else is running (waitFor)', async () => {
        const writers = await Promise.all([1, 2, 3].map(() => harness.applicationRecorder('visible')));
        const reader = await harness.applicationRecorder('visible');
        await Promise.all(
          writers.map(async (writer) => {
            for (let i = 0; i < 10; i++) {
              const [id] = await writer.insertEvents([stored(uniqueId(), 1)]);
              const [seen] = await reader.selectNotifications(id, 1, { waitFor: id });
              expect(seen?.id).toBe(id);
            }
          }),
        );
        await expect(reader.selectNotifications(0, 1, { waitFor: 0 })).rejects.toThrow('waitFor must be a notification id (an integer >= 1), got 0');
        // Where it does not, the writes show once no earlier transaction is running.
        for (let tries = 0; (await reader.selectNotifications(0, 100)).length < 30 && tries < 100; tries++) {
          await sleep(20);
        }
        expect((await reader.selectNotifications(0, 100)).length).toBe(30);
      });

      it('shows a tailing reader every event once, in order, with each transaction’s events together', async () => {
        const writers = 4;
        const writesPerWriter = 25;
        const eventsPerWrite = 3;
        const total = writers * writesPerWriter * eventsPerWrite;
        const reader = await harness.applicationRecorder('tailed');
        const recorders = await Promise.all(Array.from({ length: writers }, () => harness.applicationRecorder('tailed')));
        const seen: Notification[] = [];
        const tail = (async () => {
          let position = 0;
          while (seen.length < total) {
            const batch = await reader.selectNotifications(position, 7, { inclusiveOfStart: false });
            if (batch.length === 0) {
              await sleep(1);
              continue;
            }
            seen.push(...batch);
            position = batch[batch.length - 1].id;
          }
        })();
        await Promise.all(
          recorders.map(async (recorder, writer) => {
            for (let write = 0; write < writesPerWriter; write++) {
              const id = uniqueId(`w${writer}-${write}`);
              await recorder.insertEvents(
                Array.from({ length: eventsPerWrite }, (_, i) => stored(id, i + 1)),
              );
            }
          }),
        );
        await tail;
        expect(seen.length).toBe(total);
        expect(new Set(seen.map((n) => n.id)).size).toBe(total);
        // Each write's events are adjacent and in version order.
        for (let index = 0; index < seen.length; index += eventsPerWrite) {
          const group = seen.slice(index, index + eventsPerWrite);
          expect(new Set(group.map((n) => n.originatorId)).size).toBe(1);
          expect(group.map((n) => n.originatorVersion)).toEqual([1, 2, 3]);
        }
        // What the tail saw is the log as anyone reads it afterwards.
        const log = await reader.selectNotifications(0, total + 10, { inclusiveOfStart: false });
        expect(log.map((n) => n.id)).toEqual(seen.map((n) => n.id));
      });
    });

    describe('ProcessRecorder', () => {
      const track = (applicationName: string, previousNotificationId: number, notificationId: number, pipelineId?: number) => ({
        tracking: { applicationName, previousNotificationId, notificationId, pipelineId },
      });

      it('records events with a tracking record and reports the position per upstream and pipeline', async () => {
        const recorder = await harness.processRecorder('counters');
        expect(await recorder.maxTrackingId('worlds')).toBe(0);
        const id = uniqueId();
        await recorder.insertEvents([stored(id, 1)], track('worlds', 0, 3));
        await recorder.insertEvents([stored(id, 2)], track('worlds', 3, 5));
        await recorder.insertEvents([], track('worlds', 5, 6));
        await recorder.insertEvents([], track('others', 0, 2));
        await recorder.insertEvents([], track('worlds', 0, 1, 1));
        expect(await recorder.maxTrackingId('worlds')).toBe(6);
        expect(await recorder.maxTrackingId('worlds', 0)).toBe(6);
        expect(await recorder.maxTrackingId('others')).toBe(2);
        expect(await recorder.maxTrackingId('worlds', 1)).toBe(1);
        expect(await recorder.maxTrackingId('worlds', 2)).toBe(0);
        expect((await recorder.selectEvents(id)).length).toBe(2);
        expect((await recorder.selectNotifications(0, 10)).length).toBe(2);
      });

      it('refuses a duplicate tracking record with TrackingConflictError and keeps nothing of that write', async () => {
        const recorder = await harness.processRecorder('dupes');
        const id = uniqueId();
        await recorder.insertEvents([stored(id, 1)], track('worlds', 0, 4));
        const other = uniqueId();
        await expect(recorder.insertEvents([stored(other, 1)], track('worlds', 0, 4))).rejects.toThrow(TrackingConflictError);
        await expect(recorder.insertEvents([stored(other, 1)], track('worlds', 0, 2))).rejects.toThrow(TrackingConflictError);
        expect(await recorder.selectEvents(other)).toEqual([]);
        expect((await recorder.selectNotifications(0, 10)).map((n) => n.originatorId)).toEqual([id]);
        expect(await recorder.maxTrackingId('worlds')).toBe(4);
      });

      it('refuses a tracking record whose processing did not start from the recorded position', async () => {
        const recorder = await harness.processRecorder('compare_and_set');
        await recorder.insertEvents([], track('worlds', 0, 3));
        // Started from 2 (a stale position) and processed 4 and 5: 3 might have been processed twice.
        await expect(recorder.insertEvents([stored(uniqueId(), 1)], track('worlds', 2, 5))).rejects.toThrow(
          TrackingConflictError,
        );
        // A run that read from before the first record cannot record either.
        await expect(recorder.insertEvents([], track('worlds', 0, 7))).rejects.toThrow(/another run recorded it first/);
        await recorder.insertEvents([], track('worlds', 3, 5));
        expect(await recorder.maxTrackingId('worlds')).toBe(5);
        expect((await recorder.selectNotifications(0, 10)).length).toBe(0);
      });

      it('reports a write that conflicts on both tracking and events as a tracking conflict', async () => {
        const recorder = await harness.processRecorder('both_conflict');
        const id = uniqueId();
        await recorder.insertEvents([stored(id, 1)], track('worlds', 0, 1));
        await expect(recorder.insertEvents([stored(id, 1)], track('worlds', 0, 1))).rejects.toThrow(TrackingConflictError);
      });

      it('keeps neither tracking nor events when the events conflict', async () => {
        const recorder = await harness.processRecorder('both_or_none');
        const id = uniqueId();
        await recorder.insertEvents([stored(id, 1)]);
        await expect(recorder.insertEvents([stored(id, 1)], track('worlds', 0, 1))).rejects.toThrow(RecordConflictError);
        expect(await recorder.maxTrackingId('worlds')).toBe(0);
      });

      it('lets exactly one of two concurrent processors of overlapping batches record their results', async () => {
        const first = await harness.processRecorder('raced');
        const second = await harness.processRecorder('raced');
        let position = 0;
        for (let round = 1; round <= 10; round++) {
          // Both read from `position`; one processed two notifications, the other three.
          const results = await Promise.allSettled([
            first.insertEvents([stored(uniqueId('first'), 1)], track('worlds', position, position + 2)),
            second.insertEvents([stored(uniqueId('second'), 1)], track('worlds', position, position + 3)),
          ]);
          const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
          expect(rejected.length).toBe(1);
          expect(rejected[0].reason).toBeInstanceOf(TrackingConflictError);
          position += results[0].status === 'fulfilled' ? 2 : 3;
          expect(await second.maxTrackingId('worlds')).toBe(position);
        }
        expect((await first.selectNotifications(0, 100)).length).toBe(10);
      });

      it('rejects a malformed tracking record with DataError', async () => {
        const recorder = await harness.processRecorder('bad_tracking');
        const bad: unknown[] = [
          { applicationName: '', notificationId: 1, previousNotificationId: 0 },
          { applicationName: 'worlds', notificationId: 0, previousNotificationId: 0 },
          { applicationName: 'worlds', notificationId: 1 },
          { applicationName: 'worlds', notificationId: 2, previousNotificationId: 2 },
          { applicationName: 'worlds', notificationId: 2, previousNotificationId: 1, pipelineId: -1 },
        ];
        for (const tracking of bad) {
          await expect(recorder.insertEvents([], { tracking: tracking as never })).rejects.toThrow(DataError);
        }
        const beyond = { applicationName: 'worlds', notificationId: 1, previousNotificationId: 0, pipelineId: 2 ** 31 };
        await expect(recorder.insertEvents([], { tracking: beyond })).rejects.toThrow(DataError);
        expect(await recorder.maxTrackingId('worlds')).toBe(0);
        await expect(recorder.maxTrackingId('worlds', 2 ** 31)).rejects.toThrow(DataError);
        await expect(recorder.maxTrackingId(7 as never)).rejects.toThrow(DataError);
      });

      it('checks the whole write before the tracking: one version twice is refused and the position stays', async () => {
        const recorder = await harness.processRecorder('checked_first');
        const id = uniqueId();
        await recorder.insertEvents([], track('worlds', 0, 1));
        // The tracking record is stale too, but the write is refused as it is, before anything is tried.
        await expect(recorder.insertEvents([stored(id, 1), stored(id, 1)], track('worlds', 0, 2))).rejects.toThrow(
          /this write has it twice/,
        );
        await expect(recorder.insertEvents([stored(id, 1)], { ...track('worlds', 1, 2), pipelineId: -1 })).rejects.toThrow(DataError);
        expect(await recorder.maxTrackingId('worlds')).toBe(1);
        expect(await recorder.selectEvents(id)).toEqual([]);
      });

      it('ignores tracking on application recorders and pipeline ids on aggregate recorders', async () => {
        const application = await harness.applicationRecorder('untracked');
        const id = uniqueId();
        const [first] = await application.insertEvents([stored(id, 1)], track('worlds', 5, 9));
        expect((await application.selectNotifications(0, 10)).map((n) => n.id)).toEqual([first]);
        const aggregates = await harness.aggregateRecorder('unpiped');
        expect(await aggregates.insertEvents([stored(id, 1)], { pipelineId: 2 ** 31, ...track('worlds', 5, 9) })).toEqual([]);
        expect((await aggregates.selectEvents(id)).length).toBe(1);
      });
    });

    if (harness.durable) {
      it('keeps everything through closing and reopening', async () => {
        const recorder = await harness.processRecorder('restarted');
        const id = uniqueId();
        await recorder.insertEvents([stored(id, 1), stored(id, 2)], {
          tracking: { applicationName: 'up', notificationId: 9, previousNotificationId: 0 },
        });
        await harness.closeAll();
        const reopened = await harness.processRecorder('restarted');
        expect((await reopened.selectEvents(id)).map((e) => e.originatorVersion)).toEqual([1, 2]);
        expect((await reopened.selectNotifications(0, 10)).length).toBe(2);
        expect(await reopened.maxTrackingId('up')).toBe(9);
        await expect(reopened.insertEvents([stored(id, 2)])).rejects.toThrow(RecordConflictError);
      });
    }
  });
}
