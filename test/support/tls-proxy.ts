// A secured front for the run's plaintext Temporal dev server, as a TLS-
// terminating load balancer or Temporal Cloud is: HTTP/2 over TLS (ALPN h2)
// with a private CA, optionally requiring a client certificate (mTLS) or an
// `authorization: Bearer <key>` header (an API key), forwarding each gRPC
// call to the dev server. Certificates are made with the openssl CLI.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';

export interface TestCerts {
  dir: string;
  /** PEM file paths. */
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A private CA, a server certificate for localhost/127.0.0.1 and a client certificate, both signed by it. */
export function makeCerts(): TestCerts {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-certs-'));
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Ferry test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
  for (const [name, ext] of [
    ['server', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    writeFileSync(path.join(dir, `${name}.ext`), ext + '\n');
    openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=ferry-${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  }
  const p = (f: string) => path.join(dir, f);
  return { dir, ca: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key'), clientCert: p('client.pem'), clientKey: p('client.key') };
}

export interface ProxyOptions {
  /** host:port of the plaintext Temporal server. */
  upstream: string;
  certs: TestCerts;
  /** mTLS: refuse a client without a certificate signed by the CA. */
  requireClientCert?: boolean;
  /** Forward only calls that carry `authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** gRPC methods answered PERMISSION_DENIED, as Temporal Cloud answers AddSearchAttributes. */
  denied?: string[];
}

export interface Proxy {
  address: string;
  close(): Promise<void>;
}

export async function startTlsProxy(opts: ProxyOptions): Promise<Proxy> {
  const upstream = http2.connect(`http://${opts.upstream}`);
  upstream.on('error', () => {});
  const server = http2.createSecureServer({
    key: readFileSync(opts.certs.serverKey),
    cert: readFileSync(opts.certs.serverCert),
    ca: readFileSync(opts.certs.ca),
    requestCert: opts.requireClientCert ?? false,
    rejectUnauthorized: opts.requireClientCert ?? false,
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    if (opts.apiKey && headers.authorization !== `Bearer ${opts.apiKey}`) {
      const refusal = { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'invalid API key' };
      stream.respond(refusal, { endStream: true });
      return;
    }
    if (opts.denied?.includes(String(headers[':path']).split('/').at(-1)!)) {
      const refusal = { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '7', 'grpc-message': 'Request unauthorized.' };
      stream.respond(refusal, { endStream: true });
      return;
    }
    const { ':authority': _authority, ':scheme': _scheme, ...forward } = headers;
    const call = upstream.request(forward);
    call.on('error', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    let trailers: http2.OutgoingHttpHeaders = {};
    call.on('trailers', (t) => (trailers = stripPseudo(t)));
    call.on('response', (head, flags) => {
      // A trailers-only answer (an error status in the headers) ends the stream at once.
      const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      if (endStream) stream.respond(head, { endStream: true });
      else stream.respond(head, { waitForTrailers: true });
    });
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    call.pipe(stream);
    stream.pipe(call);
    stream.on('close', () => call.close());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  return {
    address: `localhost:${port}`,
    async close() {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      upstream.destroy();
    },
  };
}

function stripPseudo(h: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith(':')));
}
