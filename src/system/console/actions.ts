import { HttpError } from './http';
import type { ConsoleTarget } from './target';

/** What an action names: a process (a following application in one pipeline the target runs). */
interface ProcessRef {
  readonly applicationName: string;
  readonly pipelineId: number;
}

/** The answer of a failed action: refusals of the runner are conflicts (409), anything else is 500. */
const REFUSALS = new Set(['RunnerError', 'SkipError', 'DataError']);

export async function restartAction(target: ConsoleTarget, body: Record<string, unknown>): Promise<{ restarted: ProcessRef }> {
  const restart = target.restart?.bind(target);
  if (restart === undefined) throw new HttpError(501, 'this console cannot restart processes');
  const process = processRef(target, body);
  await refused(() => restart(process.applicationName, process.pipelineId));
  return { restarted: process };
}

export async function skipAction(target: ConsoleTarget, body: Record<string, unknown>): Promise<{ skipped: number }> {
  const skip = target.skip?.bind(target);
  if (skip === undefined) throw new HttpError(501, 'this console cannot skip notifications');
  const { applicationName, pipelineId } = processRef(target, body);
  const { upstreamName, notificationId, reason } = body;
  const upstreams = target.system.followsOf(applicationName);
  if (typeof upstreamName !== 'string' || !upstreams.includes(upstreamName)) {
    throw new HttpError(400, `upstreamName must be one that ${applicationName} follows (${upstreams.join(', ')}), got ${JSON.stringify(upstreamName)}`);
  }
  if (!Number.isSafeInteger(notificationId) || (notificationId as number) < 1) {
    throw new HttpError(400, `notificationId must be the id (an integer >= 1) of the notification to skip, got ${JSON.stringify(notificationId)}`);
  }
  if (typeof reason !== 'string' || reason.trim() === '') throw new HttpError(400, 'a skip needs a reason (a non-empty string)');
  if (reason.length > 2000) throw new HttpError(400, 'the reason is longer than 2000 characters');
  const skipped = await refused(() => skip(applicationName, pipelineId, upstreamName, notificationId as number, reason));
  return { skipped };
}

/** The process a body names, checked against the target's system and pipelines (400 if it has none such). */
function processRef(target: ConsoleTarget, body: Record<string, unknown>): ProcessRef {
  const { applicationName, pipelineId } = body;
  if (typeof applicationName !== 'string' || !target.system.applicationNames.includes(applicationName)) {
    throw new HttpError(400, `applicationName must name an application of the system, got ${JSON.stringify(applicationName)}`);
  }
  if (target.system.followsOf(applicationName).length === 0) {
    throw new HttpError(400, `${applicationName} follows nothing: it has no process to act on`);
  }
  if (typeof pipelineId !== 'number' || !target.pipelineIds.includes(pipelineId)) {
    throw new HttpError(400, `pipelineId must be one this runner runs (${target.pipelineIds.join(', ')}), got ${JSON.stringify(pipelineId)}`);
  }
  return { applicationName, pipelineId };
}

async function refused<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    const real = error instanceof Error ? error : new Error(String(error));
    throw new HttpError(REFUSALS.has(real.name) ? 409 : 500, real.message);
  }
}
