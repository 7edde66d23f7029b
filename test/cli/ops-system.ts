// A system module for the operator's commands: the seed's worlds followed by PickyCounters (whose
// policy refuses 'poison': a notification to skip), and Merger, which follows two logs (a skip of
// its notifications must name the upstream).
import { ProcessApplication, System } from '../../src';
import { WorldsApplication } from '../seed-example';
import { PickyCounters } from '../system/multiprocess/picky-system';

export class OtherWorlds extends WorldsApplication {}

export class Merger extends ProcessApplication {}

export const system = new System({
  pipes: [
    [WorldsApplication, PickyCounters],
    [WorldsApplication, Merger],
    [OtherWorlds, Merger],
  ],
});
