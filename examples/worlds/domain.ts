// The seeds' World aggregate and WorldsApplication, as an example of the domain and application layers.
import { v4 as uuid4 } from 'uuid';
import { Aggregate, AggregateCreated, AggregateEvent, Application, register } from '../../src';

export class World extends Aggregate {
  history: string[] = [];

  static create(): World {
    return World._create(World.Created, { id: uuid4() });
  }

  makeItSo(what: string): void {
    this.triggerEvent(World.SomethingHappened, { what });
  }

  static Created = class Created extends AggregateCreated {};

  static SomethingHappened = class SomethingHappened extends AggregateEvent<World> {
    declare readonly what: string;

    apply(world: World): void {
      world.history.push(this.what);
    }
  };
}

// A process that reads events stored by an earlier run must know their classes before it reads.
register(World);

export class WorldsApplication extends Application {
  /** The methods an ActorRunner may call by message (runner.ask). */
  static commands = ['createWorld', 'makeItSo', 'getWorldHistory'] as const;

  async createWorld(): Promise<string> {
    const world = World.create();
    await this.save(world);
    return world.id;
  }

  async makeItSo(worldId: string, what: string): Promise<void> {
    const world = await this.repository.get<World>(worldId);
    world.makeItSo(what);
    await this.save(world);
  }

  async getWorldHistory(worldId: string): Promise<string[]> {
    const world = await this.repository.get<World>(worldId);
    return [...world.history];
  }
}
