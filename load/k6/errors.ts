// k6's error_code ranges (https://grafana.com/docs/k6/latest/javascript-api/error-codes/) -> the failure kinds
// every engine reports.
import { failureForStatus } from '../sink.ts';

export function errorKindOf(status: number, errorCode: string): string {
  const code = Number(errorCode);
  if (status === 0) {
    if (code === 1050 || code === 1211) return 'timeout';
    if (code === 1212) return 'connection refused';
    if (code === 1220) return 'connection reset';
    if (code >= 1100 && code < 1200) return 'dns';
    if (code >= 1200 && code < 1300) return 'tcp';
    if (code >= 1300 && code < 1400) return 'tls';
    if (code >= 1600 && code < 1700) return 'http2';
    return 'no response';
  }
  return failureForStatus(status);
}
