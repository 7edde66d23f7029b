import type { ConsoleTopologySource } from './target';

export interface TopologyNode {
  readonly name: string;
  /** Steps from an application that follows nothing (its column). */
  readonly depth: number;
  /** Its place in its column. */
  readonly row: number;
  /** Whether it follows anything (it then has processes). */
  readonly follows: boolean;
  readonly x: number;
  readonly y: number;
}

export interface TopologyEdge {
  /** The upstream application. */
  readonly from: string;
  /** The application that follows it. */
  readonly to: string;
  /** Whether it points back (to a column at or left of its upstream's: a cycle). */
  readonly back: boolean;
}

/** The system drawn: applications as boxes in columns by depth, pipes as arrows. */
export interface Topology {
  readonly nodes: readonly TopologyNode[];
  readonly edges: readonly TopologyEdge[];
  readonly width: number;
  readonly height: number;
  readonly box: { readonly width: number; readonly height: number };
}

const BOX = { width: 168, height: 48 };
const GAP = { x: 72, y: 28 };
const MARGIN = 16;

/** Lays out a system by depth: the longest path to each application from one that follows nothing. */
export function topology(system: ConsoleTopologySource): Topology {
  const names = [...system.applicationNames];
  const leads = new Map<string, string[]>(names.map((name) => [name, []]));
  for (const name of names) for (const upstream of system.followsOf(name)) leads.get(upstream)?.push(name);
  const depths = new Map<string, number>();
  const visit = (name: string, depth: number, path: ReadonlySet<string>): void => {
    if ((depths.get(name) ?? -1) >= depth || depth >= names.length) return;
    depths.set(name, depth);
    const onPath = new Set(path).add(name);
    for (const next of leads.get(name) ?? []) if (!onPath.has(next)) visit(next, depth + 1, onPath);
  };
  for (const name of names) if (system.followsOf(name).length === 0) visit(name, 0, new Set());
  // Cycles no root reaches start where they are first named.
  for (const name of names) if (!depths.has(name)) visit(name, 0, new Set());
  const rows = new Map<number, number>();
  const nodes = names.map((name): TopologyNode => {
    const depth = depths.get(name)!;
    const row = rows.get(depth) ?? 0;
    rows.set(depth, row + 1);
    const x = MARGIN + depth * (BOX.width + GAP.x);
    const y = MARGIN + row * (BOX.height + GAP.y);
    return { name, depth, row, follows: system.followsOf(name).length > 0, x, y };
  });
  const edges = names.flatMap((name) =>
    system.followsOf(name).map((from): TopologyEdge => ({ from, to: name, back: depths.get(name)! <= depths.get(from)! })),
  );
  const columns = Math.max(1, ...nodes.map((node) => node.depth + 1));
  const tallest = Math.max(1, ...rows.values());
  return {
    nodes,
    edges,
    width: 2 * MARGIN + columns * BOX.width + (columns - 1) * GAP.x,
    height: 2 * MARGIN + tallest * BOX.height + (tallest - 1) * GAP.y + GAP.y, // room below for arrows back
    box: BOX,
  };
}
