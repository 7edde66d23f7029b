import type { Recording } from '../../application';
import type { PolicyError } from '../errors';

/** What one batch did: how many notifications it processed, what it recorded, and how it ended early. */
export interface BatchOutcome {
  /** Notifications processed and recorded, from the first of the batch. */
  readonly processed: number;
  readonly recordings: readonly Recording[];
  /** The policy failure that ended the batch (what came before it is recorded; nothing of it is). */
  readonly failure?: PolicyError;
}
