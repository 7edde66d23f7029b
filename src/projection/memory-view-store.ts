import { produce, type Draft } from 'immer';
import { ConfigurationError, type DomainEvent } from '../domain';
import type { MemoryViewTransaction, Tracking, ViewRecorder } from '../persistence';
import { ProjectionError } from './errors';
import { ViewSwitchedError } from './sql-view-store';
import type { MemoryView, MemoryViewClass, ViewReader } from './view';
import { positionKey, positionsText, trackingOf, type BuildPositions, type BuildStarted, type SwitchOutcome, type ViewStore } from './view-store';

interface Generation {
  readonly generation: number;
  readonly state: 'live' | 'building';
  readonly version: number;
  readonly positions: BuildPositions;
}

const REGISTRY = 'generations';
const stateKey = (generation: number) => `view:${generation}`;

/**
 * A memory view's generations in the memory store's process recorder: the same operations as the
 * SQL store's, each one writeView transaction (all or nothing); each state changes through immer,
 * so an update that throws leaves it as it was.
 */
export class MemoryViewStore implements ViewStore {
  readonly reader: ViewReader;
  readonly view: MemoryView<any>;

  constructor(
    private readonly recorder: ViewRecorder,
    private readonly projectionName: string,
    private readonly viewClass: MemoryViewClass,
  ) {
    if (recorder.viewDialect !== 'memory') {
      throw new ConfigurationError(
        `projection ${projectionName} keeps a memory view (${viewClass.name}), but its store is ${recorder.viewDialect}: make the view a SqlView, or use the memory store`,
      );
    }
    this.reader = {
      dialect: 'memory',
      all: () => Promise.reject(new ConfigurationError(`view ${viewClass.name} is a memory view: read its state()`)),
      table: () => {
        throw new ConfigurationError(`view ${viewClass.name} is a memory view: it has no tables`);
      },
      state: <S>() =>
        this.write((tx) => {
          const live = this.generations(tx).find((generation) => generation.state === 'live');
          return (live === undefined ? this.view.initialState() : tx.get(stateKey(live.generation))) as S;
        }),
    };
    this.view = new viewClass(this.reader);
  }

  async ready(): Promise<void> {
    await this.write((tx) => void this.liveOf(tx));
  }

  async applyLive(tracking: Tracking, events: readonly DomainEvent[]): Promise<void> {
    await this.write((tx) => {
      const live = this.liveOf(tx);
      if (live.version !== this.viewClass.version) {
        throw new ConfigurationError(
          `the live view of ${this.projectionName} was built by version ${live.version} of its view, and ${this.viewClass.name} is version ${this.viewClass.version}: rebuild the projection`,
        );
      }
      tx.track(tracking);
      this.apply(tx, live.generation, events);
    });
  }

  async startBuild(): Promise<BuildStarted> {
    return this.write((tx) => {
      const generations = this.generations(tx);
      const building = generations.find((generation) => generation.state === 'building');
      if (building !== undefined && building.version === this.viewClass.version) {
        return { generation: building.generation, positions: building.positions, resumed: true };
      }
      const generation = Math.max(0, ...generations.map((each) => each.generation)) + 1;
      tx.set(REGISTRY, [
        ...generations.filter((each) => each.state !== 'building'),
        { generation, state: 'building', version: this.viewClass.version, positions: {} },
      ]);
      tx.set(stateKey(generation), this.view.initialState());
      return { generation, positions: {}, resumed: false };
    });
  }

  async applyBuild(generation: number, before: BuildPositions, after: BuildPositions, events: readonly DomainEvent[]): Promise<void> {
    await this.write((tx) => {
      const generations = this.generations(tx);
      const building = generations.find((each) => each.generation === generation && each.state === 'building');
      if (building === undefined || positionsText(building.positions) !== positionsText(before)) {
        throw new ProjectionError(`generation ${generation} of ${this.projectionName} is no longer being built from where this rebuild was`);
      }
      tx.set(REGISTRY, generations.map((each) => (each === building ? { ...each, positions: after } : each)));
      this.apply(tx, generation, events);
    });
  }

  async trySwitch(generation: number): Promise<SwitchOutcome> {
    return this.write((tx): SwitchOutcome => {
      const generations = this.generations(tx);
      const building = generations.find((each) => each.generation === generation && each.state === 'building');
      if (building === undefined) throw new ProjectionError(`generation ${generation} of ${this.projectionName} is not being built`);
      const behind = tx
        .positions()
        .filter((row) => (building.positions[positionKey(row.applicationName, row.pipelineId)] ?? 0) < row.notificationId)
        .map((row) => `${row.applicationName} (pipeline ${row.pipelineId}): live at ${row.notificationId}`);
      if (behind.length > 0) return { switched: false, behind };
      tx.replacePositions(trackingOf(building.positions));
      const live = generations.find((each) => each.state === 'live');
      if (live !== undefined) tx.delete(stateKey(live.generation));
      tx.set(REGISTRY, [{ ...building, state: 'live', positions: {} }]);
      return live === undefined ? { switched: true } : { switched: true, retired: live.generation };
    });
  }

  async dropRetired(): Promise<number[]> {
    return []; // a switch drops the old state at once
  }

  async reset(): Promise<number> {
    return this.write((tx) => {
      const generations = this.generations(tx);
      for (const each of generations) tx.delete(stateKey(each.generation));
      const generation = Math.max(0, ...generations.map((each) => each.generation)) + 1;
      tx.replacePositions([]);
      tx.set(REGISTRY, [{ generation, state: 'live', version: this.viewClass.version, positions: {} }]);
      tx.set(stateKey(generation), this.view.initialState());
      return generation;
    });
  }

  async live(): Promise<{ generation: number; version: number }> {
    return this.write((tx) => {
      const { generation, version } = this.liveOf(tx);
      return { generation, version };
    });
  }

  private apply(tx: MemoryViewTransaction, generation: number, events: readonly DomainEvent[]): void {
    if (events.length === 0) return;
    const state = tx.get<object>(stateKey(generation)) ?? this.view.initialState();
    tx.set(stateKey(generation), produce(state, (draft: Draft<object>) => this.view.update(events, draft)));
  }

  private generations(tx: MemoryViewTransaction): Generation[] {
    return tx.get<Generation[]>(REGISTRY) ?? [];
  }

  /** The live generation, made (empty, numbered 1) if there is none yet. */
  private liveOf(tx: MemoryViewTransaction): Generation {
    const generations = this.generations(tx);
    const live = generations.find((generation) => generation.state === 'live');
    if (live !== undefined) return live;
    if (generations.length > 0) throw new ViewSwitchedError(`the view of ${this.projectionName} has no live generation`);
    const made: Generation = { generation: 1, state: 'live', version: this.viewClass.version, positions: {} };
    tx.set(REGISTRY, [made]);
    tx.set(stateKey(1), this.view.initialState());
    return made;
  }

  private write<T>(work: (tx: MemoryViewTransaction) => T): Promise<T> {
    return this.recorder.writeView((tx) => work(tx as MemoryViewTransaction));
  }
}
