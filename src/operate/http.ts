import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthReport } from './health.js';

export interface HttpDeps {
  host: string;
  /** 0: any free port (see `url`). */
  port: number;
  metrics: { contentType: string; render(): Promise<string> };
  /** /readyz (and /healthz, its older name): Postgres and Temporal answer. */
  health: () => Promise<HealthReport>;
  /** /livez: Ferry's own loops run. */
  live: () => HealthReport;
}

export interface HttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves GET /metrics (Prometheus), /livez and /readyz (200 or 503, JSON); /healthz is /readyz's older name. */
export async function startHttpServer(deps: HttpDeps): Promise<HttpServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const json = (report: HealthReport) => reply(report.ok ? 200 : 503, 'application/json', JSON.stringify(report) + '\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'text/plain', 'GET only\n');
    const route =
      path === '/metrics'
        ? deps.metrics.render().then((text) => reply(200, deps.metrics.contentType, text))
        : path === '/readyz' || path === '/healthz'
          ? deps.health().then(json)
          : path === '/livez'
            ? Promise.resolve(deps.live()).then(json)
            : Promise.resolve(reply(404, 'text/plain', 'not found: try /metrics, /livez or /readyz\n'));
    route.catch(() => reply(500, 'text/plain', 'internal error\n'));
  });
  return listen(server, deps);
}

/** Listens on host:port (0: any free port); `url` names an address a client on this machine can use. */
export async function listen(server: http.Server, at: { host: string; port: number }): Promise<HttpServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = at.host === '0.0.0.0' || at.host === '::' ? '127.0.0.1' : at.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
