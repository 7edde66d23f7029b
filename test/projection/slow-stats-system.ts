// The worlds' stats system, made slow and fine-grained for the crash tests, in whatever process
// loads it (a worker too): SLOW_VIEW_MS makes each batch take that long (busy, inside its
// transaction, as a heavy view would), PROJECTION_BATCH sets the batch size.
import { statsSystem, WorldStats, WorldStatsProjection } from '../../examples/worlds/stats';

const slowMs = Number(process.env.SLOW_VIEW_MS ?? 0);
if (slowMs > 0) {
  const update = WorldStats.prototype.update;
  WorldStats.prototype.update = function slowly(this: WorldStats, ...args: Parameters<typeof update>) {
    const until = Date.now() + slowMs;
    while (Date.now() < until);
    return update.apply(this, args);
  };
}
if (process.env.PROJECTION_BATCH) WorldStatsProjection.batchSize = Number(process.env.PROJECTION_BATCH);

export const system = statsSystem;
