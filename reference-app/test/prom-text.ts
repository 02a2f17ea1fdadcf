// A small parser for the Prometheus text exposition format (0.0.4), enough to check names, labels and
// values the way a scraper would see them. prom-client can only write this format, not read it.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  types: Map<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;

function parseLabels(body: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const eq = body.indexOf('=', i);
    if (eq < 0 || body[eq + 1] !== '"') throw new Error(`bad labels in: ${line}`);
    const name = body.slice(i, eq).trim();
    let j = eq + 2;
    let value = '';
    while (j < body.length && body[j] !== '"') {
      if (body[j] === '\\') {
        const next = body[j + 1];
        value += next === 'n' ? '\n' : next ?? '';
        j += 2;
      } else {
        value += body[j];
        j += 1;
      }
    }
    if (body[j] !== '"') throw new Error(`unterminated label value in: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (body[i] === ',') i += 1;
  }
  return labels;
}

/**
 * A sample value as Prometheus reads it (Go's strconv.ParseFloat: Inf and NaN in any case). prom-client
 * writes a NaN gauge (e.g. an event-loop lag read before its first sample) as "Nan", which Prometheus accepts.
 */
function parseValue(raw: string): number {
  const word = raw.toLowerCase();
  if (word === '+inf' || word === 'inf') return Infinity;
  if (word === '-inf') return -Infinity;
  if (word === 'nan') return NaN;
  const value = Number(raw);
  if (Number.isNaN(value)) throw new Error(`bad sample value ${raw}`);
  return value;
}

export function parsePrometheusText(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type?.[1] && type[2]) types.set(type[1], type[2]);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match?.[1] || match[4] === undefined) throw new Error(`not a sample line: ${line}`);
    samples.push({ name: match[1], labels: match[3] ? parseLabels(match[3], line) : {}, value: parseValue(match[4]) });
  }
  return { samples, types };
}

export function find(exposition: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}
