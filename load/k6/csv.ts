// Reads k6's `--out csv` stream and turns its rows into the engine-neutral samples of load/sink.ts.
//
// The format, as written by k6 v1.x (`output/csv` in grafana/k6; K6_CSV_TIME_FORMAT=unix_milli):
//   header   metric_name,timestamp,metric_value,<one column per --system-tags tag, in k6's order>,extra_tags,metadata
//   rows     one per metric sample; a tag column is empty when the sample lacks the tag; extra_tags holds the
//            other tags as k=v&k=v; fields are quoted by Go's encoding/csv when they hold a comma or a quote.
// Per HTTP request k6 writes http_reqs, http_req_duration, http_req_failed and timing rows, all with the same
// tags; iterations, dropped_iterations, checks, vus and custom metrics (app_responses) come on their own.
// Columns are looked up by name, never by position: which tag columns exist depends on --system-tags.
import { errorKindOf } from './errors.ts';
import type { LoadSink } from '../sink.ts';

export class MalformedOutputError extends Error {
  override name = 'MalformedOutputError';
}

/** The columns the engine reads. */
const REQUIRED = ['metric_name', 'timestamp', 'metric_value'] as const;

export type K6Row = Record<string, string>;

/** Checks the header csv-parse read; throws MalformedOutputError when it is not k6's. */
export function checkHeader(columns: readonly string[]): void {
  if (REQUIRED.some((name, i) => columns[i] !== name)) {
    throw new MalformedOutputError(`k6 CSV header expected, got: ${columns.join(',').slice(0, 200)}`);
  }
}

/** Feeds one k6 row to the sink: a request per http_req_duration row, and the counts k6 reports apart. */
export function rowToSink(row: K6Row, sink: LoadSink): void {
  const metric = row.metric_name ?? '';
  const t = Number(row.timestamp);
  const value = Number(row.metric_value);
  if (row.timestamp === '' || row.metric_value === '' || !Number.isFinite(t) || !Number.isFinite(value)) {
    throw new MalformedOutputError(`k6 CSV row with a bad timestamp or value: ${JSON.stringify(row).slice(0, 200)}`);
  }
  switch (metric) {
    case 'http_req_duration': {
      const status = Number(row.status || '0');
      const failed = row.expected_response === 'false';
      sink.request({ t, latencyMs: value, status, name: row.name ?? '', failure: failed ? errorKindOf(status, row.error_code ?? '') : null });
      break;
    }
    case 'iterations':
      sink.iterations(t, value);
      break;
    case 'dropped_iterations':
      sink.dropped(t, value);
      break;
    case 'checks':
      if (value === 0) sink.note(t, 'check failed');
      break;
    case 'app_responses': {
      const tags = new URLSearchParams(row.extra_tags ?? '');
      sink.served(t, tags.get('version') ?? undefined, tags.get('instance') ?? undefined, value);
      break;
    }
    default:
      // vus and the timing metrics only move the clock forward.
      sink.tick(t);
  }
}
