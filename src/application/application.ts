import { Aggregate, AggregateClass, AggregateEvent, ConfigurationError, Snapshot } from '../domain';
import {
  ApplicationRecorder,
  InfrastructureFactory,
  InsertEventsOptions,
  JSONTranscoder,
  Mapper,
  RecordConflictError,
} from '../persistence';
import { checkLogger, type Logger } from '../observability/logger';
import { AggregateCache } from './aggregate-cache';
import type { Recording, RecordingListener } from './recording';
import { Environment, EnvType } from './environment';
import { ApplicationError, DownstreamProcessingError } from './errors';
import { EventStore } from './event-store';
import { NotificationLog } from './notification-log';
import { createInfrastructure, createMapper } from './persistence';
import { Repository } from './repository';
import { ApplicationTelemetry } from './telemetry';
import { turnIfDue } from './turns';

/** The name an application class gives its instances: its own static applicationName, else its class name. */
export function applicationNameOf(cls: { readonly name: string; applicationName?: string }): string {
  return Object.prototype.hasOwnProperty.call(cls, 'applicationName') && cls.applicationName
    ? cls.applicationName
    : cls.name;
}

export type SnapshottingIntervals = ReadonlyMap<AggregateClass<any>, number>;

export interface ApplicationOptions {
  /** Settings overlaid on the process environment (see Environment). */
  env?: EnvType;
  /** Pipeline id recorded with every event this application saves (default 0). */
  pipelineId?: number;
  /** Take a snapshot of an aggregate of a class every N events (overrides the class's static). */
  snapshottingIntervals?: SnapshottingIntervals;
  /**
   * Where the application logs (snapshots that could not be taken; a follower's slow batches and
   * conflicts): any object with pino's error, warn, info and debug. Default: warnings and errors to
   * stderr, info and debug quiet.
   */
  logger?: Logger;
}

/** What `lead` needs of a follower (a process application of the system layer). */
export interface LeadFollower {
  follow(upstreamName: string, recorder: ApplicationRecorder, mapper: Mapper): void;
  pullAndProcess(upstreamName: string, options: { pipelineId: number }): Promise<number>;
}

const DEFAULT_CACHE_SIZE = 1000;

/** Each originator's events, in the order given. */
function eventsByOriginator(events: readonly AggregateEvent<any>[]): Map<string, AggregateEvent<any>[]> {
  const byOriginator = new Map<string, AggregateEvent<any>[]>();
  for (const event of events) {
    const own = byOriginator.get(event.originatorId);
    if (own === undefined) byOriginator.set(event.originatorId, [event]);
    else own.push(event);
  }
  return byOriginator;
}

/**
 * An event-sourced application: commands are its methods; it saves aggregates' new events to its
 * event store, reconstructs aggregates through its repository, and every event it records gets a
 * place in its notification log, which other applications follow.
 */
export class Application {
  /** Name of the application (and of its tables and settings prefix); defaults to the class name. */
  static applicationName?: string;
  /** Default settings, under the process environment and the constructor's `env`. */
  static env: EnvType = {};
  static snapshottingIntervals?: SnapshottingIntervals;

  readonly name: string;
  readonly env: Environment;
  readonly pipelineId: number;
  readonly factory: InfrastructureFactory;
  readonly mapper: Mapper;
  readonly recorder: ApplicationRecorder;
  readonly events: EventStore<ApplicationRecorder>;
  readonly snapshots?: EventStore;
  readonly repository: Repository;
  readonly notificationLog: NotificationLog;
  readonly snapshottingIntervals: SnapshottingIntervals;
  readonly logger: Logger;
  /** Spans and metrics, when @opentelemetry/api is installed. */
  readonly #telemetry: ApplicationTelemetry | undefined;
  #closed = false;
  readonly #listeners: RecordingListener[] = [];

  constructor(options: ApplicationOptions = {}) {
    const cls = this.constructor as typeof Application;
    this.name = applicationNameOf(cls);
    this.env = new Environment(this.name, { ...cls.env, ...process.env, ...options.env });
    this.logger = checkLogger(options.logger, `application ${this.name}`);
    this.pipelineId = options.pipelineId ?? 0;
    if (!Number.isSafeInteger(this.pipelineId) || this.pipelineId < 0) {
      throw new ConfigurationError(`pipelineId must be an integer >= 0, got ${String(options.pipelineId)}`);
    }
    this.snapshottingIntervals = options.snapshottingIntervals ?? cls.snapshottingIntervals ?? new Map();
    for (const [aggregateClass, interval] of this.snapshottingIntervals) {
      if (!Number.isSafeInteger(interval) || interval < 1) {
        throw new ConfigurationError(
          `snapshotting interval of ${aggregateClass.name} must be an integer >= 1, got ${String(interval)}`,
        );
      }
    }
    const transcoder = new JSONTranscoder();
    this.registerTranscodings(transcoder);
    this.mapper = createMapper(this.env, transcoder);
    this.factory = createInfrastructure(this.env);
    this.recorder = this.createRecorder(this.factory);
    this.events = new EventStore(this.mapper, this.recorder);
    this.#telemetry = ApplicationTelemetry.of(this.name, this.pipelineId, this.recorder);
    const snapshotting = this.env.boolean('IS_SNAPSHOTTING_ENABLED') ?? this.snapshottingIntervals.size > 0;
    if (snapshotting) this.snapshots = new EventStore(this.mapper, this.factory.aggregateRecorder('snapshots'));
    const cacheSize = this.env.integer('AGGREGATE_CACHE_MAXSIZE', 0) ?? DEFAULT_CACHE_SIZE;
    this.repository = new Repository(
      this.events,
      this.snapshots,
      cacheSize > 0 ? new AggregateCache(cacheSize) : undefined,
      this.env.boolean('AGGREGATE_CACHE_FASTFORWARD') ?? true,
    );
    this.notificationLog = new NotificationLog(this.recorder);
  }

  /** The recorder this kind of application needs (process applications need tracking). */
  protected createRecorder(factory: InfrastructureFactory): ApplicationRecorder {
    return factory.applicationRecorder();
  }

  /** Override to teach the transcoder custom value types (see Transcoding). */
  protected registerTranscodings(_transcoder: JSONTranscoder): void {}

  /**
   * Records the new events of the aggregates in one atomic write: all of them, or none when another
   * writer recorded one of these versions first (RecordConflictError). Resolves when every listener
   * (a runner prompting followers) has finished with the recordings. A listener that fails after
   * the write committed rejects with DownstreamProcessingError: the command is recorded, and must
   * not be repeated.
   */
  save(...aggregates: Aggregate[]): Promise<Recording[]> {
    // Not itself async: a save's promise is saveEvents', adopted by no other.
    try {
      this.checkOpen();
      const events: AggregateEvent<any>[] = [];
      for (const aggregate of aggregates) events.push(...aggregate.collectEvents());
      if (events.length === 0) return Promise.resolve([]);
      if (this.#telemetry === undefined) return this.saveEvents(aggregates, events);
      return this.#telemetry.save(events, () => this.saveEvents(aggregates, events));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Records the events of a save, then tells the listeners. */
  private async saveEvents(aggregates: readonly Aggregate[], events: readonly AggregateEvent<any>[]): Promise<Recording[]> {
    const recordings = await this.record(aggregates, events, { pipelineId: this.pipelineId });
    try {
      await this.notifyRecorded(recordings, this.pipelineId);
    } catch (error) {
      if (error instanceof DownstreamProcessingError) throw error;
      throw new DownstreamProcessingError(this.name, recordings.map((recording) => recording.notificationId), error);
    }
    // A caller that awaits commands in a loop must not starve the event loop (see turnIfDue). Only
    // commands give the turn: a follower that did would wait for the caller's next one.
    const turn = turnIfDue();
    if (turn !== undefined) await turn;
    return recordings;
  }

  /**
   * Writes `events` (of `aggregates`) in one transaction, then keeps the aggregates in the cache
   * and takes the snapshots that are due.
   */
  protected async record(
    aggregates: readonly Aggregate[],
    events: readonly AggregateEvent<any>[],
    options: InsertEventsOptions,
  ): Promise<Recording[]> {
    let ids: number[];
    try {
      ids = await this.events.put(events, options);
    } catch (error) {
      // What is cached of these aggregates may be stale now.
      for (const aggregate of aggregates) this.repository.cache?.evict(aggregate.id);
      throw error;
    }
    this.#telemetry?.recorded(events.length, options.pipelineId ?? 0);
    const own = eventsByOriginator(events);
    for (const aggregate of aggregates) this.repository.cache?.advance(aggregate, own.get(aggregate.id) ?? []);
    await this.snapshotWhereDue(aggregates, own);
    return events.map((domainEvent, index) => ({ domainEvent, notificationId: ids[index] }));
  }

  /**
   * Wires a follower by hand, without a runner: what this application records is then processed by
   * the follower before `save` resolves. Returns a function that unwires it.
   */
  lead(follower: LeadFollower): () => void {
    follower.follow(this.name, this.recorder, this.mapper);
    return this.onRecorded(async (_recordings, pipelineId) => {
      await follower.pullAndProcess(this.name, { pipelineId });
    });
  }

  /** Calls `listener` after every write this application records; returns a function that stops it. */
  onRecorded(listener: RecordingListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const index = this.#listeners.indexOf(listener);
      if (index >= 0) this.#listeners.splice(index, 1);
    };
  }

  /** Tells the listeners of `recordings`; resolves when they have all finished. */
  protected async notifyRecorded(recordings: readonly Recording[], pipelineId: number): Promise<void> {
    if (this.#listeners.length === 0 || recordings.length === 0) return;
    await Promise.all(this.#listeners.map((listener) => listener(recordings, pipelineId)));
  }

  /** Records a snapshot of the aggregate at `version` (default: its latest version). */
  async takeSnapshot(aggregateId: string, version?: number): Promise<void> {
    this.checkOpen();
    if (this.snapshots === undefined) {
      throw new ApplicationError(
        `snapshotting is not enabled for ${this.name}: set IS_SNAPSHOTTING_ENABLED=true or snapshottingIntervals`,
      );
    }
    const aggregate = await this.repository.get(aggregateId, { version });
    try {
      await this.snapshots.put([Snapshot.take(aggregate)]);
    } catch (error) {
      if (!(error instanceof RecordConflictError)) throw error; // already snapshotted at this version
    }
  }

  /**
   * Takes the snapshots that the events just recorded make due. It runs after the write
   * committed, so a snapshot that cannot be written fails nothing: the events are recorded, and a
   * snapshot only saves replaying them. Such a failure is a warning.
   */
  private async snapshotWhereDue(aggregates: readonly Aggregate[], own: ReadonlyMap<string, readonly AggregateEvent<any>[]>): Promise<void> {
    if (this.snapshots === undefined || this.snapshottingIntervals.size === 0) return;
    for (const aggregate of aggregates) {
      const interval = this.snapshottingIntervals.get(aggregate.constructor as AggregateClass<any>);
      if (interval === undefined) continue;
      const first = own.get(aggregate.id)?.[0];
      if (first === undefined) continue;
      const before = first.originatorVersion - 1;
      if (Math.floor(aggregate.version / interval) > Math.floor(before / interval)) {
        try {
          await this.snapshots.put([Snapshot.take(aggregate)]);
        } catch (error) {
          if (error instanceof RecordConflictError) continue; // already snapshotted at this version
          this.logger.warn(
            { application: this.name, pipelineId: this.pipelineId, aggregateId: aggregate.id, version: aggregate.version, err: error },
            `${this.name} recorded aggregate ${aggregate.id} at version ${aggregate.version} but could not snapshot it: ${(error as Error).message}`,
          );
        }
      }
    }
  }

  /** Releases the application's connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.factory.close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  private checkOpen(): void {
    if (this.#closed) throw new ApplicationError(`application ${this.name} is closed`);
  }
}
