import { Context } from '@temporalio/activity';

/**
 * Runs `work` while heartbeating on a timer. A chunk is one transaction of
 * unknown length, so it cannot heartbeat between steps; a timer can, for as
 * long as the process lives. A worker killed mid-chunk then stops
 * heartbeating, and Temporal retries the chunk on another worker after the
 * activity's heartbeatTimeout, not after its startToCloseTimeout.
 */
export async function whileHeartbeating<T>(work: () => Promise<T>, everyMs = 2000): Promise<T> {
  const context = Context.current();
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
