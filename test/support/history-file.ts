// Saved workflow histories as JSON files. The SDK's historyToJSON and
// historyFromJSON fail in this install ("type must be a Type": @temporalio/common
// and @temporalio/proto each carry their own protobufjs), so the files hold
// the History message as protobufjs' toObject writes it (enum names, 64-bit
// numbers as strings, bytes in base64) and load back through fromObject.
import { readFileSync, writeFileSync } from 'node:fs';
import proto from '@temporalio/proto';

type History = proto.temporal.api.history.v1.IHistory;
const HistoryMessage = proto.temporal.api.history.v1.History;

export function writeHistory(file: string, history: History): void {
  const object = HistoryMessage.toObject(HistoryMessage.fromObject(history), { longs: String, enums: String, bytes: String });
  writeFileSync(file, JSON.stringify(object, null, 1) + '\n');
}

export function readHistory(file: string): proto.temporal.api.history.v1.History {
  return HistoryMessage.fromObject(JSON.parse(readFileSync(file, 'utf8')));
}
