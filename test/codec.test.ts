// The payload codec alone: AES-256-GCM, keys from env or file under key ids,
// rotation (seal with the current key, open with any listed), and a bad key
// config that names the key (the CLI exits 2 on it).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { defaultPayloadConverter, METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { AesGcmCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../src/temporal/codec.js';
import { configErrorOf, valid } from './support/config-fixtures.js';

const key = () => randomBytes(32).toString('base64');
const withCodec = (codec: unknown, env: Record<string, string>) => parseConfig(valid({ temporal: { codec } }), env);
const codecOf = (keys: Record<string, string>, currentKeyId: string) =>
  AesGcmCodec.of(
    withCodec(
      { keys: Object.fromEntries(Object.keys(keys).map((id) => [id, { env: `K_${id}` }])), currentKeyId },
      Object.fromEntries(Object.entries(keys).map(([id, k]) => [`K_${id}`, k])),
    ).temporal.codec!,
  );
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');

describe('AesGcmCodec', () => {
  const k1 = key();
  const k2 = key();
  const value = { logId: 42, note: 'MARKER-secret' };
  const payload = (): Payload => defaultPayloadConverter.toPayload(value)!;

  it('seals a payload whole (metadata too) and opens it again', async () => {
    const codec = codecOf({ k1 }, 'k1');
    const [sealed] = await codec.encode([payload()]);
    expect(text(sealed!.metadata![METADATA_ENCODING_KEY])).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed!.metadata![KEY_ID_METADATA])).toBe('k1');
    expect(Object.keys(sealed!.metadata!).sort()).toEqual([KEY_ID_METADATA, METADATA_ENCODING_KEY].sort());
    expect(text(sealed!.data)).not.toContain('MARKER');
    expect(text(sealed!.data)).not.toContain('json/plain');
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(value);
  });

  it('a fresh IV each time: the same payload never seals the same', async () => {
    const codec = codecOf({ k1 }, 'k1');
    const [a, b] = await codec.encode([payload(), payload()]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('leaves a payload it did not seal as it is (histories from before the codec)', async () => {
    const plain = payload();
    expect(await codecOf({ k1 }, 'k1').decode([plain])).toEqual([plain]);
  });

  it('rotates: seals with the current key, opens payloads of any key listed', async () => {
    const [old] = await codecOf({ k1 }, 'k1').encode([payload()]);
    const rotated = codecOf({ k1, k2 }, 'k2');
    const [fresh] = await rotated.encode([payload()]);
    expect(text(fresh!.metadata![KEY_ID_METADATA])).toBe('k2');
    const opened = await rotated.decode([old!, fresh!]);
    expect(opened.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([value, value]);
  });

  it('a payload of a key id no longer listed fails naming the id', async () => {
    const [old] = await codecOf({ k1 }, 'k1').encode([payload()]);
    await expect(codecOf({ k2 }, 'k2').decode([old!])).rejects.toThrow(/key id "k1", which temporal.codec.keys does not list/);
  });

  it('an altered payload, or another key under the same id, does not open', async () => {
    const [sealed] = await codecOf({ k1 }, 'k1').encode([payload()]);
    const altered = { ...sealed!, data: Buffer.from(sealed!.data!) };
    altered.data[20]! ^= 1;
    await expect(codecOf({ k1 }, 'k1').decode([altered])).rejects.toThrow(/does not open with that key/);
    await expect(codecOf({ k1: k2 }, 'k1').decode([sealed!])).rejects.toThrow(/does not open with that key/);
  });
});

describe('temporal.codec in the config', () => {
  const errorOf = (codec: unknown, env: Record<string, string> = {}) => configErrorOf(valid({ temporal: { codec } }), env);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-codec-'));
  const file = (name: string, content: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  };

  it('reads keys from env and file, base64 or hex; the keys never print', () => {
    const hex = randomBytes(32).toString('hex');
    const b64 = key();
    const config = withCodec({ keys: { a: { env: 'KEY_A' }, b: { file: file('b.key', `${hex}\n`) } }, currentKeyId: 'b' }, { KEY_A: b64 });
    expect(config.temporal.codec!.keys.ids).toEqual(['a', 'b']);
    expect(config.temporal.codec!.keys.get('b')!.toString('hex')).toBe(hex);
    const shown = JSON.stringify(config) + inspect(config, { depth: 10 });
    expect(shown).not.toContain(hex);
    expect(shown).not.toContain(b64);
    expect(shown).not.toContain(Buffer.from(b64, 'base64').toString('hex'));
  });

  it.each([
    [
      'a variable that is not set',
      { keys: { k1: { env: 'NOPE' } }, currentKeyId: 'k1' },
      {},
      'temporal.codec.keys.k1: the environment variable NOPE is not set',
    ],
    [
      'a file that is not there',
      { keys: { k1: { file: '/nonexistent/ferry.key' } }, currentKeyId: 'k1' },
      {},
      'temporal.codec.keys.k1: cannot read /nonexistent/ferry.key: ENOENT',
    ],
    [
      'a key of 16 bytes',
      { keys: { k1: { env: 'K' } }, currentKeyId: 'k1' },
      { K: randomBytes(16).toString('base64') },
      'temporal.codec.keys.k1: $K does not hold a 256-bit key',
    ],
    [
      'a passphrase',
      { keys: { k1: { env: 'K' } }, currentKeyId: 'k1' },
      { K: 'correct horse battery staple' },
      'temporal.codec.keys.k1: $K does not hold a 256-bit key',
    ],
    [
      'currentKeyId not among the keys',
      { keys: { k1: { env: 'K' } }, currentKeyId: 'k2' },
      { K: key() },
      'temporal.codec.currentKeyId: "k2" is not one of temporal.codec.keys (k1)',
    ],
    ['no key', { keys: {}, currentKeyId: 'k1' }, {}, 'temporal.codec.keys: name at least one key'],
    ['a key id with a space', { keys: { 'k 1': { env: 'K' } }, currentKeyId: 'k 1' }, { K: key() }, 'temporal.codec.keys'],
    [
      'a source of neither kind',
      { keys: { k1: { value: 'x' } }, currentKeyId: 'k1' },
      {},
      'temporal.codec.keys.k1: must be { env: "VARIABLE" } or { file: "/path/to/key" }',
    ],
    ['an unknown key in the block', { keys: { k1: { env: 'K' } }, currentKeyId: 'k1', algorithm: 'aes' }, { K: key() }, 'algorithm'],
  ])('%s', (_, codec, env, message) => {
    expect(errorOf(codec, env)).toContain(message);
  });

  it('a bad key never shows in the message', () => {
    const almost = key().slice(0, 40);
    expect(errorOf({ keys: { k1: { env: 'K' } }, currentKeyId: 'k1' }, { K: almost })).not.toContain(almost);
  });
});
