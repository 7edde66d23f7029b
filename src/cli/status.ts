import { Environment } from '../application';
import { readClusterStatus, upstreamStatuses, type ClusterStatus, type Follower, type FollowerKind, type UpstreamStatus } from '../system';
import { OpenApplications } from './applications';
import { loadSystem, parsePipelines } from './load-system';

export interface StatusOptions {
  readonly system: string;
  readonly export: string;
  readonly pipelines: string;
  readonly json?: boolean;
}

interface ProcessRow {
  readonly applicationName: string;
  /** What it writes: events of its own ('process'), or a view ('projection'). */
  readonly kind: FollowerKind;
  readonly pipelineId: number;
  readonly upstreams: readonly UpstreamStatus[];
  readonly lag: number | null;
  readonly owner?: string | null;
}

/**
 * `eventsourcing-nact status`: every process application and projection of every pipeline (its
 * `kind` says which), with its positions,
 * heads and lag, read from the stores (it starts no runner and processes nothing); and, over
 * PostgreSQL, the cluster's live members and the owner of each slot.
 */
export async function status(options: StatusOptions): Promise<void> {
  const { system } = loadSystem(options.system, options.export);
  const pipelineIds = parsePipelines(options.pipelines);
  const opened = new OpenApplications();
  const rows: ProcessRow[] = [];
  try {
    for (const pipelineId of pipelineIds) {
      const applications = opened.pipeline(system, pipelineId);
      for (const name of system.followers) {
        const follower = applications.get(name) as Follower;
        const upstreams = await upstreamStatuses(follower, pipelineId);
        const lag = upstreams.some((upstream) => upstream.lag === null) ? null : upstreams.reduce((sum, upstream) => sum + upstream.lag!, 0);
        rows.push({ applicationName: name, kind: follower.kind, pipelineId, upstreams, lag });
      }
    }
  } finally {
    await opened.close();
  }
  let cluster: ClusterStatus | undefined;
  const settings = new Environment('', process.env);
  if (settings.get('PERSISTENCE') === 'postgres') {
    const slots = rows.map(({ applicationName, pipelineId }) => ({ applicationName, pipelineId }));
    cluster = await readClusterStatus(settings.get('POSTGRES_URL'), (settings.get('POSTGRES_SCHEMA') ?? 'public').toLowerCase(), slots);
    if (cluster.members.length === 0) cluster = undefined; // not run as a cluster
  }
  const owners = new Map(cluster?.slots.map((slot) => [`${slot.applicationName}:${slot.pipelineId}`, slot.owner?.memberId ?? null]));
  const processes = rows.map((row) => (cluster === undefined ? row : { ...row, owner: owners.get(`${row.applicationName}:${row.pipelineId}`) ?? null }));
  if (options.json) {
    console.log(JSON.stringify({ processes, ...(cluster ? { cluster: { schema: cluster.schema, members: cluster.members } } : {}) }, null, 2));
    return;
  }
  const table = processes.map((row) => [
    row.applicationName,
    row.kind,
    String(row.pipelineId),
    row.upstreams.map((upstream) => `${upstream.upstreamName} ${upstream.position ?? '?'}/${upstream.head ?? '?'}`).join(', '),
    row.lag === null ? '?' : String(row.lag),
    ...(cluster ? [row.owner ?? '(none)'] : []),
  ]);
  printTable(['process', 'kind', 'pipeline', 'position/head', 'lag', ...(cluster ? ['owner'] : [])], table);
  if (cluster) {
    console.log(`\ncluster in schema ${cluster.schema}: ${cluster.members.length} live member(s)`);
    printTable(['member', 'host', 'pid'], cluster.members.map((member) => [member.memberId, member.host, String(member.pid)]));
  }
}

function printTable(header: readonly string[], rows: readonly string[][]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: readonly string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  console.log(line(header));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const row of rows) console.log(line(row));
}
