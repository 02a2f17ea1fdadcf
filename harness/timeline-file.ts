// The timeline on disk: `<run-dir>/timeline.jsonl`, appended record by record so a crash mid-run still leaves
// everything up to the crash. The record schemas, the version and the parsing rules are the contract's.
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { errors } from '../contract/errors.ts';
import { eventRecord, parseTimeline, timelineHeader, type EventOf, type EventType, type TimelineRecord, type TimelineSink } from '../contract/timeline.ts';
import { HARNESS_VERSION } from './version.ts';

/**
 * Appends records as they happen. A new (or empty) file gets the header line before its first record; nothing
 * is written before a record is, so a writer made for a run that is then refused leaves no file.
 */
export class TimelineWriter implements TimelineSink {
  private headerChecked = false;

  constructor(private readonly file: string) {}

  write(record: TimelineRecord): void {
    if (!this.headerChecked) {
      this.headerChecked = true;
      const empty = !existsSync(this.file) || statSync(this.file).size === 0;
      if (empty) appendFileSync(this.file, JSON.stringify(timelineHeader(`slo-harness ${HARNESS_VERSION}`)) + '\n');
    }
    appendFileSync(this.file, JSON.stringify(record) + '\n');
  }

  event<T extends EventType>(type: T, source: string, data: EventOf<T>['data'], t = Date.now()): void {
    this.write(eventRecord(type, source, data, t));
  }
}

/** Reads and validates a whole timeline file, sorted by time. */
export function readTimeline(file: string): TimelineRecord[] {
  if (!existsSync(file)) throw errors.SLO_ERR_RUN_DIR_INVALID(`no timeline at ${file}`, 'pass a folder written by `slo run`');
  return parseTimeline(readFileSync(file, 'utf8'), file);
}
