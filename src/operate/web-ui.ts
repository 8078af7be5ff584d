import type { FerryConfig } from '../config.js';

/** Link to a workflow in the Temporal Web UI. */
export function webUiLink(config: FerryConfig, workflowId: string): string {
  const base = (config.temporal.uiUrl ?? defaultUiUrl(config.temporal.address)).replace(/\/$/, '');
  return `${base}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** The dev server's UI listens on the frontend port + 1000 (7233 -> 8233). */
export function defaultUiUrl(address: string): string {
  const [host, port] = address.split(':');
  const uiPort = port ? Number(port) + 1000 : 8233;
  return `http://${host === '0.0.0.0' ? 'localhost' : host}:${uiPort}`;
}
