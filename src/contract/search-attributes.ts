// Search attributes: ids and names only, never row data (they are stored unencrypted).
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import type { SyncLogInput } from './sync-types.js';

export const FerryMapping = defineSearchAttributeKey('FerryMapping', SearchAttributeType.KEYWORD);
export const FerryTable = defineSearchAttributeKey('FerryTable', SearchAttributeType.KEYWORD);
export const FerryState = defineSearchAttributeKey('FerryState', SearchAttributeType.KEYWORD);
export const FerryLogId = defineSearchAttributeKey('FerryLogId', SearchAttributeType.INT);
/** The deployment (config `instance`): one namespace may serve several databases. */
export const FerryInstance = defineSearchAttributeKey('FerryInstance', SearchAttributeType.KEYWORD);

/** Every attribute `migrate` registers and the dev server is started with. */
export const SEARCH_ATTRIBUTES = [FerryMapping, FerryTable, FerryState, FerryLogId, FerryInstance];

/** The attributes a syncLog workflow starts with. */
export function startSearchAttributes(input: SyncLogInput): SearchAttributePair[] {
  return [
    { key: FerryInstance, value: input.instance },
    { key: FerryMapping, value: input.mapping },
    { key: FerryTable, value: input.table },
    { key: FerryLogId, value: input.logId },
    { key: FerryState, value: 'syncing' },
  ];
}
