// The ceiling's workflow: does nothing but tell the bench it ran. Bundled on
// its own, so it imports only @temporalio/workflow.
import { proxySinks, type Sinks } from '@temporalio/workflow';

export interface BenchSinks extends Sinks {
  bench: { done(): void };
}

const { bench } = proxySinks<BenchSinks>();

export async function emptyWorkflow(): Promise<void> {
  bench.done();
}
