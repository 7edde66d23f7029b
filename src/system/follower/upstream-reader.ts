import type { ApplicationRecorder, Mapper, Notification, ProcessRecorder } from '../../persistence';

/** An application a follower follows: its notification log, and the mapper that decodes it. */
export interface Upstream {
  readonly name: string;
  readonly recorder: ApplicationRecorder;
  readonly mapper: Mapper;
}

/**
 * One upstream log as a follower reads it in one pipeline, from the position the follower has
 * reached there. The reader owns that position: it reads it from the follower's tracking records
 * when it does not know it, moves it on when a batch is recorded, and forgets it when another run
 * may have moved it (a conflict). Runs over one reader are serialised: each starts when the one
 * before it has finished.
 */
export class UpstreamReader {
  #position: number | undefined;
  #recheck = false;
  #running: Promise<unknown> = Promise.resolve();

  constructor(
    readonly upstream: Upstream,
    readonly pipelineId: number,
    private readonly tracking: ProcessRecorder,
  ) {}

  /** The position as this reader last knew it (undefined until read, and after a conflict). */
  get knownPosition(): number | undefined {
    return this.#position;
  }

  /** The last notification processed, as recorded (read once, then kept). */
  async position(): Promise<number> {
    if (this.#position === undefined || this.#recheck) {
      this.#position = await this.tracking.maxTrackingId(this.upstream.name, this.pipelineId);
      this.#recheck = false;
    }
    return this.#position;
  }

  /**
   * Up to `limit` notifications after `position`, in log order. `waitFor` is a notification known
   * to be recorded (a prompt named it): the log is read only once it shows it (see SelectNotificationsOptions).
   */
  read(position: number, limit: number, waitFor?: number): Promise<Notification[]> {
    return this.upstream.recorder.selectNotifications(position, limit, { inclusiveOfStart: false, pipelineId: this.pipelineId, waitFor });
  }

  /** What processing recorded: the position is now `notificationId`. */
  advance(notificationId: number): void {
    this.#position = notificationId;
  }

  /**
   * A run failed here: the position is read again next time (another process may move it meanwhile,
   * such as an operator's skip from the command line), and is still known until then.
   */
  recheck(): void {
    this.#recheck = true;
  }

  /** Another run may have moved the position: read it again next time. */
  forget(): void {
    this.#position = undefined;
  }

  /** Runs `body` once every earlier run of this reader has finished. */
  exclusive<T>(body: () => Promise<T>): Promise<T> {
    const run = this.#running.then(body, body);
    this.#running = run.catch(() => undefined);
    return run;
  }
}
