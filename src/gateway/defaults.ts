/** The gateway's numbers, shared by the library, the CLI and the demo. */

/** Workers at once, across every board the gateway works. */
export const DEFAULT_MAX_WORKERS = 4;
/**
 * The period of housekeeping: renewing leases, releasing expired claims, promoting, and looking
 * for new work and new boards while slots are free. Dispatch itself does not wait for it: a slot
 * whose worker exits is refilled at once.
 */
export const DEFAULT_TICK_MS = 1_000;
/** After the first stop signal, how long running workers may go on before their groups are killed. */
export const DEFAULT_GRACE_MS = 10_000;
/** Pause between attempts to record an outcome while the file stays locked by another process. */
export const RECORD_RETRY_MS = 250;
