import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { bannerText, displayUrl, statusText } from '../src/terminal.js';
import { exampleMappings } from '../example/mappings.js';

describe('terminal output of dev and start', () => {
  const config = parseConfig({ database: { url: 'postgres://ferry:secret@db:5432/app' }, mappings: exampleMappings }, {});

  it('never shows the database password', () => {
    expect(displayUrl(config.database.url)).toBe('postgres://ferry:***@db:5432/app');
    // Whatever does not parse is not shown: it may hold a password all the same.
    expect(displayUrl('postgres://ferry:secret@db:port/app')).not.toContain('secret');
    expect(displayUrl('host=db password=secret')).not.toContain('secret');
    expect(displayUrl('postgres://ferry@db/app?password=secret&sslmode=require')).toBe('postgres://ferry@db/app?password=***&sslmode=require');
  });

  it('names the database, Temporal, the waiting-syncs link and the metrics URL', () => {
    const text = bannerText({
      config,
      database: displayUrl(config.database.url),
      uiUrl: 'http://127.0.0.1:8233',
      metricsUrl: 'http://0.0.0.0:9464/metrics',
    });
    expect(text).toContain('postgres://ferry:***@db:5432/app');
    expect(text).toContain('localhost:7233');
    expect(text).toContain('http://127.0.0.1:8233/namespaces/default/workflows?query=FerryState%20%3D%20%22waiting_parent%22');
    expect(text).toContain('http://0.0.0.0:9464/metrics');
    expect(text).not.toContain('secret');
  });

  it('says synced/s, pending, waiting and failed on one line', () => {
    expect(statusText({ syncedPerSecond: 12, pending: 3, waiting: 1, failed: 0 })).toBe('  synced/s 12   pending 3   waiting 1   failed 0');
  });
});
