// `ferry codec-server`: Temporal's codec server protocol (POST .../encode and
// .../decode, Payloads as protobuf JSON: metadata values and data in base64)
// over Ferry's payload codec, so the Web UI and `temporal workflow show
// --codec-endpoint` show payloads opened. Whoever reaches it can open every
// payload: it binds loopback by default, and a browser may call it only from
// the Web UI's origins (CORS), never from another site.
import http from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { Logger } from '../logger.js';
import { listen, type HttpServer } from './http.js';

export interface CodecServerOptions {
  codec: PayloadCodec;
  host: string;
  /** 0: any free port (see `url`). */
  port: number;
  /** Origins of the Web UI (`http://localhost:8233`): the only pages a browser lets call this server. */
  uiOrigins: string[];
  logger: Logger;
}

/** Temporal's Payloads at most this large in one request (a history's event holds a few MB at most). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const ALLOWED_HEADERS = 'content-type, x-namespace, authorization';

interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

class BadRequest extends Error {}

function fromJson(p: JsonPayload): Payload {
  if (p === null || typeof p !== 'object') throw new BadRequest('each payload is an object { metadata, data }');
  const bytes = (v: unknown) => {
    if (typeof v !== 'string') throw new BadRequest('payload metadata values and data are base64 strings');
    return Buffer.from(v, 'base64');
  };
  return {
    metadata: p.metadata ? Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, bytes(v)])) : {},
    data: p.data === undefined || p.data === null ? new Uint8Array() : bytes(p.data),
  };
}

function toJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(`a request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function payloadsOf(body: string): Payload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BadRequest('the body is not JSON: expected { "payloads": [...] }');
  }
  const payloads = (parsed as { payloads?: unknown })?.payloads;
  if (!Array.isArray(payloads)) throw new BadRequest('expected { "payloads": [...] }');
  return payloads.map(fromJson);
}

/** Serves POST …/encode and …/decode; OPTIONS answers the Web UI's preflight. */
export async function startCodecServer(opts: CodecServerOptions): Promise<HttpServer> {
  const { codec, logger } = opts;
  const origins = new Set(opts.uiOrigins);
  const server = http.createServer((req, res) => {
    const origin = req.headers.origin;
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    // A page of any other site is refused outright: CORS would only hide the answer, not stop the work.
    if (origin !== undefined && !origins.has(origin)) {
      logger.warn({ origin }, 'codec server: refused a request from an origin that is not the Web UI (--ui-origin)');
      return reply(403, 'text/plain', `origin ${origin} may not use this codec server (ferry codec-server --ui-origin)\n`);
    }
    if (origin !== undefined) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'origin');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': ALLOWED_HEADERS,
        'access-control-max-age': '600',
      });
      return res.end();
    }
    const path = (req.url ?? '/').split('?')[0]!;
    // The protocol routes on the last part of the path, so a proxy may mount it anywhere.
    const op = path.endsWith('/encode') ? 'encode' : path.endsWith('/decode') ? 'decode' : undefined;
    if (req.method !== 'POST' || !op) return reply(404, 'text/plain', 'POST /encode or /decode with { "payloads": [...] }\n');
    readBody(req)
      .then(async (body) => {
        const payloads = payloadsOf(body);
        const out = await (op === 'encode' ? codec.encode(payloads) : codec.decode(payloads));
        logger.debug({ op, payloads: payloads.length, namespace: req.headers['x-namespace'] }, 'codec server');
        reply(200, 'application/json', JSON.stringify({ payloads: out.map(toJson) }));
      })
      .catch((err: Error) => {
        const status = err instanceof BadRequest ? 400 : 422;
        logger.warn({ op, err: err.message }, `codec server: cannot ${op}`);
        reply(status, 'text/plain', `cannot ${op}: ${err.message}\n`);
      });
  });
  return listen(server, opts);
}
