// The payload codec: AES-256-GCM over each whole payload (its metadata too),
// as in Temporal's encryption sample (samples-typescript/encryption). A sealed
// payload names the key id it was sealed with, so keys rotate: new payloads
// take the current key, and any key of the keyring opens the old ones.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { METADATA_ENCODING_KEY, ValueError, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { FerryConfig } from '../config.js';
import type { CodecConfig, Keyring } from '../config/codec-keys.js';

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;

/** The metadata encoding of a sealed payload (what the Web UI shows until a codec server opens it). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata key naming the key id a payload was sealed with. */
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Where the SDK finds the failure converter (it require()s the path, in the worker's bundle too). */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url));

const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

export class AesGcmCodec implements PayloadCodec {
  constructor(
    private readonly keys: Keyring,
    private readonly currentKeyId: string,
  ) {
    if (!keys.get(currentKeyId)) throw new ValueError(`codec: no key "${currentKeyId}" in the keyring`);
  }

  static of(codec: CodecConfig): AesGcmCodec {
    return new AesGcmCodec(codec.keys, codec.currentKeyId);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.seal(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (text(payload.metadata?.[METADATA_ENCODING_KEY]) === ENCRYPTED_ENCODING ? this.open(payload) : payload));
  }

  private seal(payload: Payload): Payload {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv, { authTagLength: TAG_BYTES });
    const sealed = Buffer.concat([iv, cipher.update(PayloadMessage.encode(payload).finish()), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(this.currentKeyId) },
      data: sealed,
    };
  }

  private open(payload: Payload): Payload {
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
    if (keyId === undefined) throw new ValueError(`codec: a ${ENCRYPTED_ENCODING} payload without its ${KEY_ID_METADATA}`);
    const key = this.keys.get(keyId);
    if (!key) throw new ValueError(`codec: the payload was sealed with key id "${keyId}", which temporal.codec.keys does not list`);
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES) throw new ValueError('codec: a sealed payload too short to hold its IV and tag');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let opened: Buffer;
    try {
      opened = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new ValueError(`codec: a payload sealed with key id "${keyId}" does not open with that key (altered, or another key under the same id)`);
    }
    return PayloadMessage.decode(opened);
  }
}

/**
 * What client and worker pass the SDK: none when the codec is off (Temporal's
 * defaults), else the codec and the failure converter that hands it
 * failures' messages and stack traces.
 */
export function dataConverterOf(config: FerryConfig): DataConverter | undefined {
  const codec = config.temporal.codec;
  return codec ? { payloadCodecs: [AesGcmCodec.of(codec)], failureConverterPath: FAILURE_CONVERTER_PATH } : undefined;
}
