import { dispatch, query, spawn, stop, type ActorContext, type Ref, type SupervisionContext } from 'nact';
import { asError, failure, ok, type Reply } from '../system';

export { asError, failure, ok, type Reply } from '../system';

declare const protocol: unique symbol;

/**
 * A reference to an actor that accepts messages of protocol `P` (a discriminated union). nact's
 * `Ref<T>` is an empty class, so any ref is assignable to any other: the brand makes the compiler
 * check every message sent. A ref that accepts `Animal` may be used where one accepting `Dog` is
 * wanted, never the other way round.
 */
export type ActorRef<P> = Ref<P> & { readonly [protocol]: (message: P) => void };

/** Any nact reference (an actor system's or an actor's) under which actors can be spawned. */
export type ParentRef = Ref<any>;


/** Where the answer to a request goes (a temporary reference made by `ask`, or an actor). */
export type ReplyTo<T> = ActorRef<Reply<T>>;

/** The longest timer Node.js and nact accept (nact truncates timeouts with `| 0`). */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** Sends `message` to `ref` without waiting; a stopped actor drops it. */
export function tell<P>(ref: ActorRef<P>, message: P): void {
  dispatch(ref, message);
}

/** Answers a request. */
export function reply<T>(replyTo: ReplyTo<T>, answer: Reply<T>): void {
  dispatch(replyTo, answer);
}


/** Raised by `ask` when no answer came in time. */
export class AskTimeout extends Error {
  override name = 'AskTimeout';
}

/** Raised by `ask` when the actor is not there (stopped, or never spawned). */
export class ActorGone extends Error {
  override name = 'ActorGone';
}

/**
 * Sends the request that `make` builds around a temporary reply address, and resolves with the
 * answer's value or rejects with its error (or AskTimeout / ActorGone). The timer is cleared as
 * soon as the answer arrives.
 */
export async function ask<P, T>(ref: ActorRef<P>, make: (replyTo: ReplyTo<T>) => P, timeoutMs: number): Promise<T> {
  let answer: Reply<T>;
  try {
    answer = await query(ref, (temporary: Ref<Reply<T>>) => make(temporary as ReplyTo<T>), Math.min(Math.max(1, timeoutMs), MAX_TIMEOUT_MS));
  } catch (error) {
    const message = asError(error).message;
    if (message === 'Query Timeout') throw new AskTimeout(`no answer within ${timeoutMs} ms`);
    if (/stopped or never existed/.test(message)) throw new ActorGone(message);
    throw error;
  }
  if (!answer.ok) throw answer.error;
  return answer.value;
}

/** Runs `work` and sends its outcome to `replyTo`; never throws. */
export async function answer<T>(replyTo: ReplyTo<T>, work: () => T | Promise<T>): Promise<void> {
  let result: Reply<T>;
  try {
    result = ok(await work());
  } catch (error) {
    result = failure(error);
  }
  reply(replyTo, result);
}

/** What a behaviour is given besides state and message: nact's context, with a typed `self`. */
export type TypedContext<P> = Omit<ActorContext<P, ParentRef>, 'self'> & { readonly self: ActorRef<P> };

export type Behaviour<S, P> = (state: S, message: P, ctx: TypedContext<P>) => S | Promise<S>;

export interface SpawnOptions<S, P> {
  readonly initialState: S;
  /**
   * What happens when the behaviour throws. nact turns an exception thrown here into an unhandled
   * rejection, so `spawnActor` catches it and stops the actor instead.
   */
  readonly onCrash: (message: P | undefined, error: Error, ctx: SupervisionContext<P, ParentRef>) => Symbol;
}

/** Spawns an actor with a typed protocol under `parent`. Names must be unique among its siblings. */
export function spawnActor<S, P>(parent: ParentRef, name: string, behaviour: Behaviour<S, P>, options: SpawnOptions<S, P>): ActorRef<P> {
  const ref = spawn(parent, behaviour as never, name, {
    initialState: options.initialState,
    onCrash: (message: P | undefined, error: Error | undefined, ctx: SupervisionContext<P, ParentRef>) => {
      try {
        return options.onCrash(message, asError(error), ctx);
      } catch {
        return ctx.stop;
      }
    },
  } as never);
  return ref as unknown as ActorRef<P>;
}

/**
 * Stops one actor. nact's `stop` leaves the actor's children running, so callers stop an actor's
 * descendants first (every actor here answers a `stop` request only once its children are stopped).
 */
export function stopActor(ref: Ref<any>): void {
  stop(ref);
}

/** An actor name nact accepts, made from `text` (nact allows RFC 1738 characters only). */
export function actorName(prefix: string, text: string): string {
  return `${prefix}-${text.replace(/[^a-z0-9$_.+!*'(),-]/gi, '_')}`;
}
