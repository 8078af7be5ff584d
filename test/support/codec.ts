// The payload codec in tests: a key file per test file, a `temporal` block
// that turns the codec on, and the workflow bundle with the codec's failure
// converter (built once per test file that asks for it).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { inject } from 'vitest';
import type { FerryConfigInput } from '../../src/config.js';
import { FAILURE_CONVERTER_PATH } from '../../src/temporal/codec.js';
import { WORKFLOWS_PATH } from '../../src/worker/worker.js';
import { namespaceForFile } from './names.js';

export const CODEC_KEY_ID = 'test-2026';

/** A fresh 256-bit key in a file of its own (base64, as `openssl rand -base64 32` writes it). */
export function codecKeyFile(): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'ferry-codec-key-')), 'codec.key');
  writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  return file;
}

/**
 * The run's Temporal with the codec on. Its own task queue: a worker without
 * the codec in the same namespace must never take these workflows.
 */
export function codecTemporal(testFile: string, keyFile: string, over: Partial<NonNullable<FerryConfigInput['temporal']>> = {}) {
  return {
    address: inject('temporalAddress'),
    namespace: namespaceForFile(testFile),
    taskQueue: 'ferry-test-codec',
    codec: { keys: { [CODEC_KEY_ID]: { file: keyFile } }, currentKeyId: CODEC_KEY_ID },
    ...over,
  } satisfies FerryConfigInput['temporal'];
}

let bundle: Promise<{ codePath: string }> | undefined;

/** The workflow bundle a codec's worker runs: workflow code's own failures go through the failure converter too. */
export function codecWorkflowBundle(): Promise<{ codePath: string }> {
  bundle ??= (async () => {
    const noop = () => {};
    const logger = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };
    const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, failureConverterPath: FAILURE_CONVERTER_PATH, logger });
    const codePath = path.join(mkdtempSync(path.join(os.tmpdir(), 'ferry-codec-bundle-')), 'workflow-bundle.js');
    writeFileSync(codePath, code);
    return { codePath };
  })();
  return bundle;
}
