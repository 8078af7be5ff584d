/** Exponential backoff with full jitter, for reconnect loops. */
export function jitteredDelay(attempt: number, baseMs = 250, maxMs = 30_000): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** Resolves after ms, or at once when the signal aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Calls fn until it succeeds, waiting longer after each failure: an outage of
 * Postgres or Temporal is waited out, not crashed through. Gives up only when
 * the signal aborts, or at once on an error `giveUp` names.
 */
export async function retryUntilDone<T>(
  what: string,
  fn: () => Promise<T>,
  opts: {
    signal?: AbortSignal;
    onError?: (err: unknown, attempt: number, delayMs: number) => void;
    /** An error that waiting does not cure (bad credentials): thrown at once, as returned. */
    giveUp?: (err: unknown) => Error | undefined;
  } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const fatal = opts.giveUp?.(err);
      if (fatal) throw fatal;
      if (opts.signal?.aborted) throw new Error(`${what}: stopped while retrying: ${(err as Error).message}`);
      const delay = jitteredDelay(attempt);
      opts.onError?.(err, attempt, delay);
      await pause(delay, opts.signal);
      if (opts.signal?.aborted) throw new Error(`${what}: stopped while retrying`);
    }
  }
}
