// The `temporal` block's TLS and API key, in the shapes @temporalio/envconfig
// uses (so temporal.toml profiles, TEMPORAL_* variables and the config file
// mean the same), checked at load time: a certificate that is missing or does
// not parse stops start-up with its key named, not a handshake error later.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** A certificate or key: a file (`{ path }`) or the PEM itself (`{ data }`). */
const source = z.union([z.object({ path: z.string().min(1) }).strict(), z.object({ data: z.string().min(1) }).strict()], {
  error: 'must be { path: "/file.pem" } or { data: "-----BEGIN ..." }',
});

type Source = z.infer<typeof source>;

/** Reads a source; the problem as text when it cannot be read or parsed. */
function pemProblem(src: Source, kind: 'certificate' | 'key'): string | undefined {
  let pem: Buffer;
  try {
    pem = 'path' in src ? readFileSync(src.path) : Buffer.from(src.data);
  } catch (err) {
    return `cannot read ${(src as { path: string }).path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
  const where = 'path' in src ? src.path : 'the data given';
  try {
    if (kind === 'key') createPrivateKey(pem);
    else new X509Certificate(pem);
    return undefined;
  } catch {
    return `${where} is not a PEM ${kind === 'key' ? 'private key' : 'certificate'}`;
  }
}

const certificate = (kind: 'certificate' | 'key') =>
  source.superRefine((v, ctx) => {
    const problem = pemProblem(v, kind);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * TLS to Temporal. `true`: TLS with the system's CAs (Temporal Cloud); an
 * object adds a private CA, a client certificate (mTLS) or a server name.
 * An API key alone turns TLS on as well.
 *
 * @example tls: { clientCert: { path: '/certs/client.pem' }, clientKey: { path: '/certs/client.key' } }
 */
export const temporalTls = z
  .union([
    z.boolean(),
    z
      .object({
        disabled: z.boolean().optional(),
        serverName: z.string().min(1).optional(),
        serverCACert: certificate('certificate').optional(),
        clientCert: certificate('certificate').optional(),
        clientKey: certificate('key').optional(),
      })
      .strict()
      .refine((t) => !t.clientCert === !t.clientKey, 'clientCert and clientKey go together (mTLS needs both)'),
  ])
  .transform((v) => (v === true ? {} : v === false ? { disabled: true } : v));

export type TemporalTls = z.output<typeof temporalTls>;
