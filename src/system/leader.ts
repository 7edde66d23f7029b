import { Application } from '../application';

/**
 * @deprecated Every application can lead (runners subscribe to what it records), so this is
 * Application itself; `lead` is Application's too.
 */
export const Leader = Application;
/** @deprecated see the value of the same name */
export type Leader = Application;
