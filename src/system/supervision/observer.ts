import type { Logger, LogLevel } from '../../observability/logger';
import type { MasterState, SupervisorMessage, Transition } from './machine';
import type { SupervisionOptions } from './options';

/**
 * What watches one supervised process (an ActorRunner's master, a MultiprocessRunner's
 * supervisor): told of every transition of its machine and of its workers, it logs what an
 * operator wants to know and counts restarts. It changes nothing.
 */
export interface ProcessObserver {
  transitioned(before: MasterState<unknown>, message: SupervisorMessage<unknown>, next: Transition<unknown>): void;
  /** A worker process (or thread) of the process became ready. */
  workerStarted(pid: number): void;
  /** A worker ended: `asked` when it was told to stop (else it crashed, was killed, or missed heartbeats). */
  workerEnded(pid: number, why: string, asked: boolean): void;
  /** A record the process's worker logged, forwarded to the runner's logger. */
  workerLogged(level: LogLevel, fields: Record<string, unknown>, message: string): void;
}

export interface ProcessObserverOptions {
  readonly applicationName: string;
  readonly pipelineId: number;
  readonly supervision: SupervisionOptions;
  readonly logger: Logger;
  /** The process was restarted after a failure (for the restarts metric). */
  readonly restarted?: () => void;
}

/**
 * Logs a supervised process's life: `info` when it backs off (attempt, delayMs), restarts after the
 * backoff, is restarted by hand, has a notification skipped by hand (upstream, notificationId,
 * reason), and when a worker starts or ends (pid); `error` when it fails past its restart limit
 * (it then stays failed). Its failures themselves are the runner's warnings.
 */
export function processObserver(options: ProcessObserverOptions): ProcessObserver {
  const { applicationName, pipelineId, supervision, logger } = options;
  const name = `${applicationName} (pipeline ${pipelineId})`;
  const fields = { application: applicationName, pipelineId };
  return {
    transitioned(before, message, next) {
      const state = next.state;
      for (const effect of next.effects) {
        if (effect.type === 'schedule-backoff') {
          options.restarted?.();
          const attempt = state.failuresWithoutProgress;
          logger.info(
            { ...fields, attempt, delayMs: effect.delayMs, restarts: state.restarts },
            `${name} backing off: restarting in ${effect.delayMs} ms (attempt ${attempt})`,
          );
        } else if (effect.type === 'skip') {
          logger.info(
            { ...fields, upstream: effect.upstreamName, notificationId: effect.notificationId, reason: effect.reason },
            `${name} skips notification ${effect.notificationId} of ${effect.upstreamName} by hand: ${effect.reason}`,
          );
        }
      }
      if (state.phase === 'failed' && before.phase !== 'failed') {
        logger.error(
          { ...fields, restarts: state.recentRestarts.length, withinMs: supervision.withinMs, err: state.lastError?.error },
          `${name} failed past its restart limit (${supervision.maxRestarts} restart${supervision.maxRestarts === 1 ? '' : 's'} within ${supervision.withinMs} ms): ` +
            `it stays failed until it is restarted or the notification it fails on is skipped. ${state.lastError?.message ?? ''}`.trimEnd(),
        );
      } else if (message.type === 'backoff-elapsed' && before.phase === 'backing-off' && state.phase === 'running') {
        logger.info({ ...fields, attempt: state.failuresWithoutProgress }, `${name} restarted after backing off`);
      } else if (message.type === 'restart' && before.phase === 'failed') {
        logger.info(fields, `${name} restarted by hand`);
      }
    },
    workerStarted(pid) {
      logger.info({ ...fields, pid }, `${name}: worker ${pid} started`);
    },
    workerEnded(pid, why, asked) {
      logger.info({ ...fields, pid, asked }, `${name}: worker ${pid} ended${asked ? '' : ` unasked: ${why}`}`);
    },
    workerLogged(level, record, message) {
      logger[level](record, message);
    },
  };
}
