// A ball passed between players: each hit makes the next one until the limit, for cycles and chains.
import { Aggregate, AggregateCreated, Application, DomainEvent, ProcessApplication, ProcessEvent } from '../../src';

export class Ball extends Aggregate {
  n = 0;
  limit = 0;

  static Hit = class Hit extends AggregateCreated<Ball> {
    declare readonly n: number;
    declare readonly limit: number;

    apply(ball: Ball): void {
      ball.n = this.n;
      ball.limit = this.limit;
    }
  };

  static hit(n: number, limit: number): Ball {
    return Ball._create(Ball.Hit, { n, limit });
  }
}

/** Returns every ball it sees with the next number, until the ball's limit. */
export class Player extends ProcessApplication {
  async serve(limit: number): Promise<void> {
    await this.save(Ball.hit(0, limit));
  }

  async policy(event: DomainEvent, processEvent: ProcessEvent): Promise<void> {
    if (event instanceof Ball.Hit && event.n < event.limit) processEvent.save(Ball.hit(event.n + 1, event.limit));
  }

  async hits(): Promise<number[]> {
    const notifications = await this.notificationLog.select(0, 100_000);
    return notifications.map((n) => (this.mapper.toDomainEvent(n) as InstanceType<typeof Ball.Hit>).n);
  }
}

/** A starting point that only serves. */
export class Server extends Application {
  async serve(limit: number): Promise<void> {
    await this.save(Ball.hit(0, limit));
  }
}
