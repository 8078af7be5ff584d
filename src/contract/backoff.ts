/** Backoff for a child whose parent is missing, as configured in `missingParent`. */
export interface BackoffPolicy {
  initialInterval: number;
  backoffCoefficient: number;
  maximumInterval: number;
  maximumAttempts: number;
}

/** Milliseconds to wait after the given attempt (1-based). */
export function backoffDelay(policy: BackoffPolicy, attempt: number): number {
  const raw = policy.initialInterval * policy.backoffCoefficient ** Math.max(0, attempt - 1);
  return Math.min(Math.round(raw), policy.maximumInterval);
}
