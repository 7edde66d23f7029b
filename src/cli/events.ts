import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { Environment, type Application } from '../application';
import type { Notification } from '../persistence';
import { OpenApplications, requireApplication } from './applications';
import { loadSystem } from './load-system';

export interface EventsOptions {
  readonly system: string;
  readonly export: string;
  readonly from: number;
  readonly limit?: number;
  readonly follow?: boolean;
  readonly pipeline?: number;
}

/** Notifications read per query. */
const PAGE = 100;
/** How often `--follow` looks for new notifications, unless EVENTS_POLL_MS says. */
const DEFAULT_POLL_MS = 200;

/**
 * `eventsourcing-nact events <app>`: the application's notification log, in log order, as JSON
 * lines on stdout: each notification's id, originatorId, originatorVersion, topic and pipelineId,
 * and as `event` the fields of the domain event decoded by the application's mapper. `--from` is
 * the first id printed; `--pipeline` keeps one pipeline's; `--limit` stops after that many;
 * `--follow` keeps polling for new ones until SIGINT or SIGTERM (then exits 0). A notification that
 * cannot be decoded stops the command with an error naming it (what came before it is printed).
 */
export async function events(applicationName: string, options: EventsOptions, command: Command): Promise<void> {
  const { system } = loadSystem(options.system, options.export);
  requireApplication(command, system, applicationName);
  const pollMs = new Environment('', process.env).integer('EVENTS_POLL_MS', 1) ?? DEFAULT_POLL_MS;
  const stopped = new AbortController();
  const stop = () => stopped.abort();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.on('error', stop); // a reader that went away (`| head`): nothing more to print
  const opened = new OpenApplications();
  try {
    const application = opened.open(system, applicationName, options.pipeline ?? 0);
    let left = options.limit ?? Infinity;
    let start = options.from;
    let inclusiveOfStart = true;
    while (left > 0 && !stopped.signal.aborted) {
      const limit = Math.min(PAGE, left);
      const notifications = await application.notificationLog.select(start, limit, { inclusiveOfStart, pipelineId: options.pipeline });
      if (notifications.length > 0) {
        await printDecoded(application, notifications, stopped.signal);
        left -= notifications.length;
        start = notifications[notifications.length - 1].id;
        inclusiveOfStart = false;
      }
      if (notifications.length < limit) {
        if (!options.follow) break;
        await sleep(pollMs, undefined, { signal: stopped.signal }).catch(() => undefined); // a stop ends the wait
      }
    }
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    process.stdout.off('error', stop);
    await opened.close();
  }
}

/** The notifications as JSON lines; one that cannot be decoded fails, once those before it are printed. */
async function printDecoded(application: Application, notifications: readonly Notification[], signal: AbortSignal): Promise<void> {
  let text = '';
  try {
    for (const notification of notifications) text += line(application, notification);
  } finally {
    await print(text, signal);
  }
}

/** One notification as a JSON line, its event decoded by the application's mapper. */
function line(application: Application, notification: Notification): string {
  const { id, originatorId, originatorVersion, topic, pipelineId } = notification;
  const event = application.mapper.toDomainEvent(notification); // its errors name the notification
  return `${JSON.stringify({ id, originatorId, originatorVersion, topic, pipelineId, event: { ...event } }, plainJson)}\n`;
}

/** What JSON cannot say, said plainly: bigints as strings, Maps as their entries, Sets and bytes as arrays. */
function plainJson(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) return [...value.entries()];
  if (value instanceof Set) return [...value.values()];
  if (value instanceof Uint8Array) return [...value];
  return value;
}

function print(text: string, signal: AbortSignal): Promise<void> {
  if (process.stdout.write(text) || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      process.stdout.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    process.stdout.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
