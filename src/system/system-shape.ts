import type { System } from './system';

/** A system as names: its applications and pipes (a worker checks that its module has the same). */
export interface SystemShape {
  readonly applications: readonly string[];
  /** Each follower's upstreams, as `upstream->follower`, sorted. */
  readonly edges: readonly string[];
}

export function shapeOf(system: System): SystemShape {
  return {
    applications: [...system.applicationNames].sort(),
    edges: system.followers.flatMap((follower) => system.followsOf(follower).map((upstream) => `${upstream}->${follower}`)).sort(),
  };
}

/** How two shapes differ, in words (undefined when they are the same). */
export function shapeDifference(expected: SystemShape, actual: SystemShape, expectedName = "the runner's system"): string | undefined {
  const missing = (a: readonly string[], b: readonly string[]) => a.filter((item) => !b.includes(item));
  const parts: string[] = [];
  const absentApps = missing(expected.applications, actual.applications);
  const extraApps = missing(actual.applications, expected.applications);
  const absentEdges = missing(expected.edges, actual.edges);
  const extraEdges = missing(actual.edges, expected.edges);
  if (absentApps.length) parts.push(`it lacks the applications ${absentApps.join(', ')}`);
  if (extraApps.length) parts.push(`it has applications ${expectedName} has not: ${extraApps.join(', ')}`);
  if (absentEdges.length) parts.push(`it lacks the pipes ${absentEdges.join(', ')}`);
  if (extraEdges.length) parts.push(`it has pipes ${expectedName} has not: ${extraEdges.join(', ')}`);
  return parts.length === 0 ? undefined : parts.join('; ');
}
