import { processAttributes, telemetry, type Attributes, type Instruments } from '../../observability/telemetry';
import type { Follower } from '../follower';
import type { Edge } from './edge';
import { upstreamStatuses } from './status';

type LagCallback = Parameters<Instruments['followerLag']['addCallback']>[0];

/**
 * A runner's metrics: the restarts of its processes (`eventsourcing.process.restarts`) and the lag
 * of each of its followers behind each upstream (`eventsourcing.follower.lag`, read from the stores
 * when the metrics are collected, as status() reads it). Made only when @opentelemetry/api is
 * installed.
 */
export class RunnerTelemetry {
  /** By `${pipelineId}:${applicationName}`. */
  readonly #attributes = new Map<string, Attributes>();
  #lagCallback: LagCallback | undefined;

  static make(): RunnerTelemetry | undefined {
    const reporting = telemetry();
    return reporting === undefined ? undefined : new RunnerTelemetry(reporting.instruments);
  }

  private constructor(private readonly instruments: Instruments) {}

  restarted(applicationName: string, pipelineId: number): void {
    const key = `${pipelineId}:${applicationName}`;
    let attributes = this.#attributes.get(key);
    if (attributes === undefined) this.#attributes.set(key, (attributes = processAttributes(applicationName, pipelineId)));
    this.instruments.restarts.add(1, attributes);
  }

  /** Reports the lag of every edge whenever the metrics are collected, until stopObservingLags. */
  observeLags(edges: readonly Edge[]): void {
    const processes = new Map<string, { follower: Follower; pipelineId: number; attributes: Map<string, Attributes> }>();
    for (const { follower, pipelineId, upstreamName } of edges) {
      const key = `${pipelineId}:${follower.name}`;
      const process = processes.get(key) ?? { follower, pipelineId, attributes: new Map() };
      process.attributes.set(upstreamName, processAttributes(follower.name, pipelineId, upstreamName));
      processes.set(key, process);
    }
    if (processes.size === 0) return;
    this.#lagCallback = async (result) => {
      await Promise.all(
        [...processes.values()].map(async ({ follower, pipelineId, attributes }) => {
          for (const { upstreamName, lag } of await upstreamStatuses(follower, pipelineId)) {
            const upstream = attributes.get(upstreamName);
            if (lag !== null && upstream !== undefined) result.observe(lag, upstream);
          }
        }),
      );
    };
    this.instruments.followerLag.addCallback(this.#lagCallback);
  }

  stopObservingLags(): void {
    if (this.#lagCallback !== undefined) this.instruments.followerLag.removeCallback(this.#lagCallback);
    this.#lagCallback = undefined;
  }
}
