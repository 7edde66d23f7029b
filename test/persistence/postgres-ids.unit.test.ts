import { notificationIdsOf } from '../../src/persistence/postgres/insert-events';
import { stored } from './recorder-contract';

describe('postgres: notification ids from the rows an INSERT returned', () => {
  const events = [stored('a', 1), stored('b', 1), stored('a', 2)];
  const rows = [
    [7, 'a', 1],
    [8, 'b', 1],
    [9, 'a', 2],
  ];

  it('matches each id to its event by (originator_id, originator_version), whatever the order of the rows', () => {
    expect(notificationIdsOf(events, rows)).toEqual([7, 8, 9]);
    expect(notificationIdsOf(events, [...rows].reverse())).toEqual([7, 8, 9]);
    expect(notificationIdsOf(events, [rows[0], rows[2], rows[1]])).toEqual([7, 8, 9]);
  });

  it('reads the key columns after the id, whatever follows them', () => {
    expect(notificationIdsOf(events, rows.map((row) => [...row, 1]))).toEqual([7, 8, 9]);
  });
});
