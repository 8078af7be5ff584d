import type { FerryConfig } from '../config.js';
import { ConfigError } from '../config/errors.js';
import type { Logger } from '../logger.js';
import { startCodecServer } from '../operate/codec-server.js';
import { AesGcmCodec } from '../temporal/codec.js';

export interface CodecServerFlags {
  port: number;
  host: string;
  uiOrigin: string[];
}

/** `ferry codec-server`: serves the config's payload codec to the Web UI until SIGINT or SIGTERM. */
export async function codecServerCommand(config: FerryConfig, logger: Logger, flags: CodecServerFlags): Promise<number> {
  const codec = config.temporal.codec;
  if (!codec)
    throw new ConfigError('config: temporal.codec: not set, so payloads are not encrypted and there is nothing to serve (docs/security.md)');
  const server = await startCodecServer({ codec: AesGcmCodec.of(codec), host: flags.host, port: flags.port, uiOrigins: flags.uiOrigin, logger });
  logger.info(
    { url: server.url, uiOrigins: flags.uiOrigin, keyIds: codec.keys.ids, currentKeyId: codec.currentKeyId },
    `codec server at ${server.url}: point the Web UI's codec endpoint here`,
  );
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  logger.info({ signal }, 'codec server stopping');
  await server.close();
  return 0;
}
