import { TopicError } from './errors';

/**
 * Stable names for classes whose instances are stored (events, aggregates, snapshots).
 *
 * A topic must not change between processes or restarts, so it is never derived from anything but
 * names the user controls: a class's own `static topic`, else its name; an event class found as a
 * static property `K` of an aggregate class with topic `A` is `A.K` (so `World.SomethingHappened`).
 */

type AnyClass = abstract new (...args: never[]) => unknown;

/** What a topic names: an aggregate class, or an event class (snapshots are events). */
export type TopicKind = 'aggregate' | 'event';

const classesByTopic = new Map<string, AnyClass>();
const topicsByClass = new Map<AnyClass, string>();
const kindsByTopic = new Map<string, TopicKind>();

/**
 * Called with a topic no class is registered under, before resolveTopic gives up: it may register
 * the class (aggregate.ts installs one that looks among the classes loaded modules export).
 */
let discover: ((topic: string) => void) | undefined;

export function setTopicDiscovery(discovery: (topic: string) => void): void {
  discover = discovery;
}

/** A class may name its own topic (for example to keep its old topic after a rename). */
export function ownTopic(cls: AnyClass): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(cls, 'topic')) return undefined;
  const topic = (cls as unknown as { topic: unknown }).topic;
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new TopicError(`static topic of class ${cls.name || '(anonymous)'} must be a non-empty string`);
  }
  return topic;
}

/** Binds `topic` to `cls`. Registering the same pair twice is harmless; anything else is an error. */
export function registerTopic(topic: string, cls: AnyClass, kind: TopicKind = 'event'): void {
  const existingClass = classesByTopic.get(topic);
  if (existingClass !== undefined && existingClass !== cls) {
    throw new TopicError(
      `topic '${topic}' is claimed by two different classes (${existingClass.name} and ${cls.name}): ` +
        `give one of them its own static topic`,
    );
  }
  const existingTopic = topicsByClass.get(cls);
  if (existingTopic !== undefined && existingTopic !== topic) {
    throw new TopicError(
      `class ${cls.name} is already registered under topic '${existingTopic}', cannot also register it as '${topic}'`,
    );
  }
  classesByTopic.set(topic, cls);
  topicsByClass.set(cls, topic);
  kindsByTopic.set(topic, kind);
}

export function registeredTopic(cls: AnyClass): string | undefined {
  return topicsByClass.get(cls);
}

/**
 * The class registered under `topic` (of the kind expected, when given). A topic not registered
 * yet is first looked for among the classes that loaded modules export; a clear error when there
 * is none, or when the class is of another kind.
 */
export function resolveTopic(topic: string, kind?: TopicKind): AnyClass {
  let cls = classesByTopic.get(topic);
  if (cls === undefined && discover !== undefined) {
    discover(topic);
    cls = classesByTopic.get(topic);
  }
  if (cls === undefined) {
    throw new TopicError(
      `unknown topic '${topic}': no class is registered under it in this process, and no module loaded ` +
        `so far exports one. Call register(AggregateClass) at start-up (needed where modules are ES modules), ` +
        `or give a renamed class its old name with a static topic`,
    );
  }
  if (kind !== undefined && kindsByTopic.get(topic) !== kind) {
    throw new TopicError(`topic '${topic}' names ${cls.name}, which is not an ${kind} class`);
  }
  return cls;
}
