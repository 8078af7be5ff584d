// The slot's health for `ferry status`, `doctor` and the metrics: how much
// WAL it holds back, and Postgres' own verdict on it (wal_status).
import type { FerryConfig } from '../../config.js';
import type { PgClient, Pool } from '../../db/index.js';
import { slotName } from './names.js';

export interface SlotHealth {
  slot: string;
  /** Whether the slot exists at all. */
  exists: boolean;
  /** Postgres' wal_status: 'reserved', 'extended', 'unreserved' (at risk), 'lost' (invalidated). */
  walStatus: string | null;
  /** Bytes of WAL between the server's position and what Ferry confirmed. */
  lagBytes: number | null;
  /** Whether a listener streams it now. */
  active: boolean;
  /** The problem to report, if any: lost, at risk, or lagging past capture.slotLagWarning. */
  problem: string | undefined;
}

export async function slotHealth(db: Pool | PgClient, config: FerryConfig): Promise<SlotHealth> {
  const slot = slotName(config.instance);
  const { rows } = await db.query<{ wal_status: string | null; lag: string | null; active: boolean }>(
    `SELECT wal_status, active, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint::text AS lag
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const row = rows[0];
  if (!row)
    return {
      slot,
      exists: false,
      walStatus: null,
      lagBytes: null,
      active: false,
      problem: `replication slot ${slot} does not exist: run \`ferry migrate\``,
    };
  const lagBytes = row.lag === null ? null : Number(row.lag);
  let problem: string | undefined;
  if (row.wal_status === 'lost')
    problem = `replication slot ${slot} is lost (it held more WAL than max_slot_wal_keep_size): changes were missed; run \`ferry migrate\` then \`ferry verify --all --repair\``;
  else if (row.wal_status === 'unreserved')
    problem = `replication slot ${slot} is about to be lost (wal_status unreserved): start the listener, or raise max_slot_wal_keep_size`;
  else if (lagBytes !== null && lagBytes >= config.capture.slotLagWarning)
    problem = `replication slot ${slot} holds back ${lagBytes} bytes of WAL (capture.slotLagWarning ${config.capture.slotLagWarning}): is the listener running?`;
  return { slot, exists: true, walStatus: row.wal_status, lagBytes, active: row.active, problem };
}
