// Turns what @kubernetes/client-node throws (ApiException with an HTTP code and a Status body, watch
// errors with statusCode, fetch failures) into one-line SloErrors, so a 403 reads as a fix, not a stack.
import { errors, isSloError, type SloError } from '../../contract/errors.ts';

interface Described { status: number | undefined; detail: string }

function describe(err: unknown): Described {
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; message?: unknown; cause?: { code?: unknown } };
  const status = typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  let body = e.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // keep the string
    }
  }
  const statusMessage = (body as { message?: unknown } | undefined)?.message;
  if (typeof statusMessage === 'string') return { status, detail: statusMessage };
  if (typeof e.cause?.code === 'string') return { status, detail: e.cause.code };
  const message = typeof e.message === 'string' ? e.message.split('\n')[0] ?? '' : String(err);
  return { status, detail: message };
}

function hintFor(status: number | undefined, context: string): string {
  switch (status) {
    case 401: return `the credentials of kube context ${context} were rejected: log in again`;
    case 403: return `the identity of kube context ${context} lacks this permission: check its RBAC (kubectl auth can-i)`;
    case 404: return 'check the namespace and names in the kube settings, and that the CRD (e.g. CloudNativePG) is installed';
    case 409: return 'the object changed underneath; retry';
    case undefined: return `is the API server of kube context ${context} reachable?`;
    default: return 'see the API server message';
  }
}

/** The SloError for a failed call; `what` names the call, e.g. "PATCH deployment orders/app". */
export function kubeApiError(what: string, err: unknown, context = 'current'): SloError {
  if (isSloError(err)) return err as SloError;
  const { status, detail } = describe(err);
  const code = status === undefined ? 'no response' : String(status);
  return errors.SLO_ERR_KUBE_API(`${what} failed: ${code}: ${detail}`, hintFor(status, context), { cause: err });
}

export async function kubeCall<T>(what: string, context: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw kubeApiError(what, err, context);
  }
}

export function httpStatusOf(err: unknown): number | undefined {
  return describe(err).status;
}
