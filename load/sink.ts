// What every load engine reports, whichever engine it is: one sample per request, plus the counts an engine
// knows apart from requests. The aggregator (per-second records), the saturation checks and the timeline see
// only these, never which engine ran.

/** One request as the client saw it. */
export interface RequestSample {
  /** Epoch ms the request belongs to: its scheduled send time (embedded) or k6's sample time. */
  t: number;
  /** From the scheduled send time to the end of the response, so a stalled server cannot hide behind a waiting generator. */
  latencyMs: number;
  /** HTTP status; 0 when no response arrived. */
  status: number;
  /** The request's name in the mix, e.g. "GET /api/items/:id". */
  name: string;
  /** Why it failed (timeout, connection refused, 5xx...), or null when its status was expected. */
  failure: string | null;
  /** x-app-version / x-instance-id of the response, when the engine sees headers per request. */
  version?: string;
  instance?: string;
}

export interface LoadSink {
  request(sample: RequestSample): void;
  /** Iterations that ended at `t` (one request each for the built-in scenarios). */
  iterations(t: number, count: number): void;
  /** Arrivals the engine could not start on time (the open model's worker cap was reached). */
  dropped(t: number, count: number): void;
  /** Responses of a build and replica, for engines that report them apart from the request (k6). */
  served(t: number, version: string | undefined, instance: string | undefined, count: number): void;
  /** An error of a kind not tied to one request's status (e.g. a failed k6 check). */
  note(t: number, kind: string): void;
  /** Moves the clock without counting anything (e.g. k6's vus gauge). */
  tick(t: number): void;
}

/** Failure kinds every engine uses (and the error keys of the timeline). */
export function failureForStatus(status: number): string {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  return 'unexpected status';
}
