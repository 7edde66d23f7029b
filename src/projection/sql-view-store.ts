import { ConfigurationError, type DomainEvent } from '../domain';
import { tableName, TrackingConflictError, type SqlTransaction, type Tracking, type ViewRecorder } from '../persistence';
import { drive, type Steps } from './drive';
import { ProjectionError } from './errors';
import { generationTable, type SqlView, type SqlViewClass, type ViewReader, type ViewWriter } from './view';
import { positionKey, positionsText, trackingOf, type BuildPositions, type BuildStarted, type SwitchOutcome, type ViewStore } from './view-store';

/** Which projection owns each name readers use (see claimTables). */
const VIEW_TABLES = 'eventsourcing_view_tables';

interface GenerationRow {
  readonly generation: number;
  readonly state: 'live' | 'building' | 'retired';
  readonly version: number;
  /** The generation's table names, as JSON. */
  readonly tables: string;
  /** A building generation's positions, as JSON (see positionsText). */
  readonly positions: string;
}

/**
 * A SQL view's generations in the projection's own store (SQLite or PostgreSQL): the registry
 * `<projection>_generations` says which generation is live and how far one being built has got;
 * each generation has its own tables (`<name>__g<N>`), and each name readers use is a SQL view of
 * the live generation's table. Every operation is one transaction of the recorder's (writeView),
 * written once as steps (see drive). On PostgreSQL, processing takes the live row FOR SHARE and a
 * switch or reset FOR UPDATE, so none of them interleave; SQLite's writers take turns anyway.
 */
export class SqlViewStore implements ViewStore {
  readonly reader: ViewReader;
  readonly view: SqlView;
  private readonly registry: string;
  private readonly dialect: 'sqlite' | 'postgres';
  #ready: Promise<void> | undefined;

  constructor(
    private readonly recorder: ViewRecorder,
    private readonly projectionName: string,
    private readonly viewClass: SqlViewClass,
  ) {
    if (recorder.viewDialect === 'memory') {
      throw new ConfigurationError(
        `projection ${projectionName} keeps a SQL view (${viewClass.name}), but its store is memory: set PERSISTENCE to sqlite or postgres, or make the view a MemoryView`,
      );
    }
    this.dialect = recorder.viewDialect;
    this.registry = tableName(projectionName, 'generations');
    const tables = new Set(Object.keys(viewClass.tables));
    this.reader = {
      dialect: this.dialect,
      all: async (sql, params) => {
        await this.ready();
        return this.recorder.queryView(sql, params);
      },
      table: (name) => {
        if (!tables.has(name)) throw new ConfigurationError(`view ${viewClass.name} has no table ${name} (it has: ${[...tables].join(', ')})`);
        return this.recorder.qualify(name);
      },
      state: () => Promise.reject(new ConfigurationError(`view ${viewClass.name} is a SQL view: query its tables`)),
    };
    this.view = new viewClass(this.reader);
  }

  ready(): Promise<void> {
    this.#ready ??= this.write((tx) => this.ensureLive(tx)).then(
      () => undefined,
      (error: unknown) => {
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }

  async applyLive(tracking: Tracking, events: readonly DomainEvent[]): Promise<void> {
    await this.ready();
    const { projectionName, viewClass } = this;
    await this.write(function* (this: SqlViewStore, tx) {
      const [live] = (yield tx.all<GenerationRow>(`SELECT generation, version FROM ${this.qualified(tx)} WHERE state = 'live'${this.forShare}`)) as GenerationRow[];
      if (live === undefined) throw new ViewSwitchedError(`the view of ${projectionName} was switched or reset meanwhile: the batch is processed again`);
      if (Number(live.version) !== viewClass.version) {
        throw new ConfigurationError(
          `the live view of ${projectionName} (generation ${live.generation}) was built by version ${live.version} of its view, ` +
            `and ${viewClass.name} is version ${viewClass.version}: rebuild the projection`,
        );
      }
      tx.track(tracking);
      yield this.view.update(events, this.writer(tx, Number(live.generation)));
    });
  }

  async startBuild(): Promise<BuildStarted> {
    await this.ready();
    return this.write(function* (this: SqlViewStore, tx): Steps<BuildStarted> {
      yield* this.claimTables(tx);
      yield* this.lockRegistry(tx);
      const [building] = (yield tx.all<GenerationRow>(`SELECT generation, version, positions FROM ${this.qualified(tx)} WHERE state = 'building'`)) as GenerationRow[];
      if (building !== undefined && Number(building.version) === this.viewClass.version) {
        return { generation: Number(building.generation), positions: JSON.parse(building.positions) as BuildPositions, resumed: true };
      }
      if (building !== undefined) yield* this.dropGeneration(tx, building);
      const generation = (yield* this.nextGeneration(tx)) as number;
      this.makeGeneration(tx, generation, 'building');
      return { generation, positions: {}, resumed: false };
    });
  }

  async applyBuild(generation: number, before: BuildPositions, after: BuildPositions, events: readonly DomainEvent[]): Promise<void> {
    await this.write(function* (this: SqlViewStore, tx) {
      const moved = (yield tx.all(
        `UPDATE ${this.qualified(tx)} SET positions = ? WHERE generation = ? AND state = 'building' AND positions = ? RETURNING generation`,
        [positionsText(after), generation, positionsText(before)],
      )) as unknown[];
      if (moved.length === 0) {
        throw new ProjectionError(`generation ${generation} of ${this.projectionName} is no longer being built from where this rebuild was (another rebuild or a reset took it)`);
      }
      if (events.length > 0) yield this.view.update(events, this.writer(tx, generation));
    });
  }

  async trySwitch(generation: number): Promise<SwitchOutcome> {
    return this.write(function* (this: SqlViewStore, tx): Steps<SwitchOutcome> {
      yield* this.lockRegistry(tx);
      const rows = (yield tx.all<GenerationRow>(`SELECT generation, state, tables, positions FROM ${this.qualified(tx)} WHERE state IN ('live', 'building')${this.forUpdate}`)) as GenerationRow[];
      const building = rows.find((row) => Number(row.generation) === generation && row.state === 'building');
      if (building === undefined) throw new ProjectionError(`generation ${generation} of ${this.projectionName} is not being built (a reset or another rebuild took it)`);
      const live = rows.find((row) => row.state === 'live');
      const built = JSON.parse(building.positions) as Record<string, number>;
      const tracked = (yield tx.all<{ application_name: string; pipeline_id: number; notification_id: number }>(
        `SELECT application_name, pipeline_id, notification_id FROM ${tx.trackingTable}`,
      )) as Array<{ application_name: string; pipeline_id: number; notification_id: number }>;
      const behind = tracked
        .filter((row) => (built[positionKey(row.application_name, Number(row.pipeline_id))] ?? 0) < Number(row.notification_id))
        .map((row) => `${row.application_name} (pipeline ${row.pipeline_id}): live at ${row.notification_id}, built to ${built[positionKey(row.application_name, Number(row.pipeline_id))] ?? 0}`);
      if (behind.length > 0) return { switched: false, behind };
      tx.run(`DELETE FROM ${tx.trackingTable}`);
      for (const { applicationName, pipelineId, notificationId } of trackingOf(built)) {
        tx.run(`INSERT INTO ${tx.trackingTable} (application_name, pipeline_id, notification_id) VALUES (?, ?, ?)`, [applicationName, pipelineId, notificationId]);
      }
      const names = Object.keys(this.viewClass.tables);
      for (const name of names) this.pointReaders(tx, name, generation);
      if (live !== undefined) {
        for (const name of JSON.parse(live.tables) as string[]) if (!names.includes(name)) tx.run(`DROP VIEW IF EXISTS ${tx.qualify(name)}`);
        tx.run(`UPDATE ${this.qualified(tx)} SET state = 'retired' WHERE generation = ?`, [Number(live.generation)]);
      }
      tx.run(`UPDATE ${this.qualified(tx)} SET state = 'live', positions = '{}' WHERE generation = ?`, [generation]);
      return live === undefined ? { switched: true } : { switched: true, retired: Number(live.generation) };
    });
  }

  async dropRetired(): Promise<number[]> {
    return this.write(function* (this: SqlViewStore, tx): Steps<number[]> {
      yield* this.lockRegistry(tx);
      const retired = (yield tx.all<GenerationRow>(`SELECT generation, tables FROM ${this.qualified(tx)} WHERE state = 'retired'`)) as GenerationRow[];
      for (const row of retired) yield* this.dropGeneration(tx, row);
      return retired.map((row) => Number(row.generation));
    });
  }

  async reset(): Promise<number> {
    await this.ready();
    return this.write(function* (this: SqlViewStore, tx): Steps<number> {
      yield* this.claimTables(tx);
      yield* this.lockRegistry(tx);
      const rows = (yield tx.all<GenerationRow>(`SELECT generation, state, tables FROM ${this.qualified(tx)}${this.forUpdate}`)) as GenerationRow[];
      const generation = (yield* this.nextGeneration(tx)) as number;
      tx.run(`DELETE FROM ${tx.trackingTable}`);
      this.makeGeneration(tx, generation, 'live'); // readers' names leave the old tables before they are dropped
      for (const row of rows) {
        for (const name of JSON.parse(row.tables) as string[]) if (!(name in this.viewClass.tables)) tx.run(`DROP VIEW IF EXISTS ${tx.qualify(name)}`);
        yield* this.dropGeneration(tx, row);
      }
      return generation;
    });
  }

  async live(): Promise<{ generation: number; version: number }> {
    await this.ready();
    const [row] = await this.recorder.queryView<GenerationRow>(`SELECT generation, version FROM ${this.recorder.qualify(this.registry)} WHERE state = 'live'`);
    if (row === undefined) throw new ProjectionError(`the view of ${this.projectionName} has no live generation`);
    return { generation: Number(row.generation), version: Number(row.version) };
  }

  // The steps.

  private *ensureLive(tx: SqlTransaction): Steps<void> {
    yield* this.claimTables(tx);
    yield* this.lockRegistry(tx);
    tx.run(
      `CREATE TABLE IF NOT EXISTS ${this.qualified(tx)} (generation INTEGER PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL, ` +
        `tables TEXT NOT NULL, positions TEXT NOT NULL, created_at BIGINT NOT NULL)`,
    );
    const [live] = (yield tx.all(`SELECT generation FROM ${this.qualified(tx)} WHERE state = 'live'`)) as GenerationRow[];
    if (live !== undefined) return;
    const generation = (yield* this.nextGeneration(tx)) as number;
    this.makeGeneration(tx, generation, 'live');
  }

  /**
   * The names readers use are the store's, not the projection's: each is claimed, in
   * `eventsourcing_view_tables`, by the first projection that makes it, and refused to any other
   * (two projections writing one table would each count the other's events).
   */
  private *claimTables(tx: SqlTransaction): Steps<void> {
    const claims = tx.qualify(VIEW_TABLES);
    if (this.dialect === 'postgres') yield tx.all('SELECT pg_advisory_xact_lock(hashtext(?)) AS locked', [`eventsourcing view tables ${claims}`]);
    tx.run(`CREATE TABLE IF NOT EXISTS ${claims} (table_name TEXT PRIMARY KEY, projection TEXT NOT NULL)`);
    const names = Object.keys(this.viewClass.tables);
    for (const name of names) tx.run(`INSERT INTO ${claims} (table_name, projection) VALUES (?, ?) ON CONFLICT (table_name) DO NOTHING`, [name, this.projectionName]);
    const owners = (yield tx.all<{ table_name: string; projection: string }>(
      `SELECT table_name, projection FROM ${claims} WHERE table_name IN (${names.map(() => '?').join(', ')})`,
      names,
    )) as Array<{ table_name: string; projection: string }>;
    const taken = owners.filter((owner) => owner.projection !== this.projectionName);
    if (taken.length > 0) {
      throw new ConfigurationError(
        `projection ${this.projectionName} cannot keep its view ${this.viewClass.name} here: ` +
          taken.map((owner) => `table ${owner.table_name} is the view of projection ${owner.projection}`).join('; ') +
          ' (give the view other table names)',
      );
    }
  }

  /** PostgreSQL: one transaction at a time makes or moves generations (SQLite's writers take turns anyway). */
  private *lockRegistry(tx: SqlTransaction): Steps<void> {
    if (this.dialect === 'postgres') yield tx.all('SELECT pg_advisory_xact_lock(hashtext(?)) AS locked', [`eventsourcing view ${this.qualified(tx)}`]);
  }

  private *nextGeneration(tx: SqlTransaction): Steps<number> {
    const [row] = (yield tx.all<{ last: number | null }>(`SELECT MAX(generation) AS last FROM ${this.qualified(tx)}`)) as Array<{ last: number | null }>;
    return Number(row?.last ?? 0) + 1;
  }

  /** A generation's tables and its row in the registry; a live one's tables are what readers see from now on. */
  private makeGeneration(tx: SqlTransaction, generation: number, state: 'live' | 'building'): void {
    for (const [name, columns] of Object.entries(this.viewClass.tables)) {
      tx.run(`CREATE TABLE IF NOT EXISTS ${tx.qualify(generationTable(name, generation))} (${columns})`);
      if (state === 'live') this.pointReaders(tx, name, generation);
    }
    tx.run(`INSERT INTO ${this.qualified(tx)} (generation, state, version, tables, positions, created_at) VALUES (?, ?, ?, ?, '{}', ?)`, [
      generation,
      state,
      this.viewClass.version,
      JSON.stringify(Object.keys(this.viewClass.tables)),
      Date.now(),
    ]);
  }

  /** The name readers use for `name` shows the generation's table from now on (at commit). */
  private pointReaders(tx: SqlTransaction, name: string, generation: number): void {
    tx.run(`DROP VIEW IF EXISTS ${tx.qualify(name)}`);
    tx.run(`CREATE VIEW ${tx.qualify(name)} AS SELECT * FROM ${tx.qualify(generationTable(name, generation))}`);
  }

  private *dropGeneration(tx: SqlTransaction, row: Pick<GenerationRow, 'generation' | 'tables'>): Steps<void> {
    for (const name of JSON.parse(row.tables) as string[]) tx.run(`DROP TABLE IF EXISTS ${tx.qualify(generationTable(name, Number(row.generation)))}`);
    tx.run(`DELETE FROM ${this.qualified(tx)} WHERE generation = ?`, [Number(row.generation)]);
  }

  private writer(tx: SqlTransaction, generation: number): ViewWriter {
    const tables = this.viewClass.tables;
    const viewName = this.viewClass.name;
    return {
      dialect: tx.dialect,
      table: (name) => {
        if (!(name in tables)) throw new ConfigurationError(`view ${viewName} has no table ${name} (it has: ${Object.keys(tables).join(', ')})`);
        return tx.qualify(generationTable(name, generation));
      },
      run: (sql, params) => tx.run(sql, params),
      all: (sql, params) => tx.all(sql, params),
    };
  }

  private write<T>(steps: (this: SqlViewStore, tx: SqlTransaction) => Steps<T>): Promise<T> {
    return this.recorder.writeView((tx) => drive(this.dialect, steps.call(this, tx as SqlTransaction)));
  }

  private qualified(tx: SqlTransaction): string {
    return tx.qualify(this.registry);
  }

  private get forShare(): string {
    return this.dialect === 'postgres' ? ' FOR SHARE' : '';
  }

  private get forUpdate(): string {
    return this.dialect === 'postgres' ? ' FOR UPDATE' : '';
  }
}

/** The live generation changed between reading the position and writing: a conflict, processed again from the position as recorded. */
export class ViewSwitchedError extends TrackingConflictError {
  override name = 'ViewSwitchedError';
}
