/** The gateway's numbers, shared by the library, the CLI and the demo. */

/** Workers at once, across every board the gateway works. */
export const DEFAULT_MAX_WORKERS = 4;
/**
 * The period of housekeeping: renewing leases, releasing expired claims, promoting, and looking
 * for new work while slots are free. Dispatch itself does not wait for it: a slot whose worker
 * exits is refilled at once.
 */
export const DEFAULT_TICK_MS = 1_000;
