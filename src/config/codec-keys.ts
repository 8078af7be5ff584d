// The `temporal.codec` block: the AES-256-GCM keys of the payload codec, each
// under a key id so keys can rotate (payloads carry the id they were sealed
// with). The keys are read once, when the config loads: a key that is missing
// or not 256 bits stops start-up naming it, and the key bytes live only in a
// Keyring, which never prints them.
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { z } from 'zod';
import { ConfigError } from './errors.js';

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Where a key's text is: an environment variable or a file (base64 or hex of 32 bytes). */
const keySource = z.union([z.object({ env: z.string().min(1) }).strict(), z.object({ file: z.string().min(1) }).strict()], {
  error: 'must be { env: "VARIABLE" } or { file: "/path/to/key" }',
});
export type KeySource = z.infer<typeof keySource>;

/**
 * Encrypts what Ferry hands Temporal (workflow inputs, results, failures'
 * messages). New payloads are sealed with `currentKeyId`; any key listed
 * opens the payloads sealed with it, so a key is retired only once no
 * history that still matters holds it.
 *
 * @example codec: { keys: { '2026-12': { env: 'FERRY_CODEC_KEY_2026_12' } }, currentKeyId: '2026-12' }
 */
export const codecSchema = z
  .object({
    keys: z
      .record(z.string().regex(KEY_ID, 'a key id is 1 to 64 of A-Z a-z 0-9 . _ -'), keySource)
      .refine((keys) => Object.keys(keys).length > 0, 'name at least one key, e.g. { k1: { env: "FERRY_CODEC_KEY" } }'),
    currentKeyId: z.string().min(1),
  })
  .strict()
  .superRefine((codec, ctx) => {
    if (!Object.hasOwn(codec.keys, codec.currentKeyId))
      ctx.addIssue({
        code: 'custom',
        path: ['currentKeyId'],
        message: `"${codec.currentKeyId}" is not one of temporal.codec.keys (${Object.keys(codec.keys).join(', ')})`,
      });
  });

/** Key ids to key bytes. JSON and inspect show the ids only. */
export class Keyring {
  readonly #keys: ReadonlyMap<string, Buffer>;
  constructor(keys: ReadonlyMap<string, Buffer>) {
    this.#keys = keys;
  }
  get ids(): string[] {
    return [...this.#keys.keys()];
  }
  get(id: string): Buffer | undefined {
    return this.#keys.get(id);
  }
  toJSON(): { ids: string[] } {
    return { ids: this.ids };
  }
  [inspect.custom](): string {
    return `Keyring(${this.ids.join(', ')})`;
  }
}

export interface CodecConfig {
  currentKeyId: string;
  keys: Keyring;
}

/** 32 bytes from base64 (`openssl rand -base64 32`) or hex (`openssl rand -hex 32`); undefined otherwise. */
export function keyBytes(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(t)) return Buffer.from(t, 'base64');
  return undefined;
}

function readKey(id: string, source: KeySource, env: NodeJS.ProcessEnv): Buffer {
  const where = `config: temporal.codec.keys.${id}`;
  let text: string;
  if ('env' in source) {
    const value = env[source.env];
    if (value === undefined || value === '') throw new ConfigError(`${where}: the environment variable ${source.env} is not set`);
    text = value;
  } else {
    try {
      text = readFileSync(source.file, 'utf8');
    } catch (err) {
      throw new ConfigError(`${where}: cannot read ${source.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const key = keyBytes(text);
  // Never the text itself: it may be a key with a typo.
  if (!key)
    throw new ConfigError(
      `${where}: ${'env' in source ? `$${source.env}` : source.file} does not hold a 256-bit key: ` +
        'expected 32 bytes as base64 (44 characters, `openssl rand -base64 32`) or hex (64 characters)',
    );
  return key;
}

/** Reads every key of the block; throws ConfigError naming the first key that cannot be used. */
export function resolveCodec(codec: z.output<typeof codecSchema>, env: NodeJS.ProcessEnv): CodecConfig {
  const keys = new Map(Object.entries(codec.keys).map(([id, source]) => [id, readKey(id, source, env)] as const));
  return { currentKeyId: codec.currentKeyId, keys: new Keyring(keys) };
}
