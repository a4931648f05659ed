/**
 * Node's system errors as Python's OSError family (PEP 3151): `ECONNREFUSED` becomes
 * ConnectionRefusedError, `EPIPE` BrokenPipeError, and so on, with Python's `errno` (a positive number),
 * `strerror` and `[Errno N] …` message. The Node error is kept as `cause`; its code as `code`.
 */
import { constants as osConstants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import {
  BrokenPipeError,
  ConnectionAbortedError,
  ConnectionRefusedError,
  ConnectionResetError,
  FileExistsError,
  FileNotFoundError,
  OSError,
  PermissionError,
  ProcessLookupError,
  TimeoutError,
} from '../exceptions.js';

type OSErrorClass = new (message?: string) => OSError;

const CLASS_BY_CODE: Record<string, OSErrorClass> = {
  ECONNREFUSED: ConnectionRefusedError,
  ECONNRESET: ConnectionResetError,
  ECONNABORTED: ConnectionAbortedError,
  EPIPE: BrokenPipeError,
  ESHUTDOWN: BrokenPipeError,
  ETIMEDOUT: TimeoutError,
  ENOENT: FileNotFoundError,
  EEXIST: FileExistsError,
  EACCES: PermissionError,
  EPERM: PermissionError,
  ESRCH: ProcessLookupError,
};

let errorMap: Map<number, [string, string]> | undefined;

/** Python's errno for a Node error code ('ECONNREFUSED' → 111 on Linux), or undefined. */
export function errnoOf(code: string): number | undefined {
  return (osConstants.errno as Record<string, number>)[code];
}

/** libc's wording of an error code ('ECONNRESET' → 'Connection reset by peer'). */
export function strerror(code: string, errno?: number): string {
  errorMap ??= getSystemErrorMap();
  const n = errno ?? errnoOf(code);
  const entry = n === undefined ? undefined : (errorMap.get(-n) ?? errorMap.get(n));
  const text = entry?.[1] ?? code;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Build Python's `OSError(errno, strerror)` of the class that matches `code`: its message is
 * `[Errno N] strerror`, as Python's str() of it.
 */
export function makeOSError(code: string, text?: string, cause?: unknown): OSError {
  const cls = CLASS_BY_CODE[code] ?? OSError;
  const errno = errnoOf(code);
  const s = text ?? strerror(code, errno);
  const err = new cls(errno === undefined ? s : `[Errno ${errno}] ${s}`);
  err.errno = errno;
  err.code = code;
  err.strerror = s;
  if (cause !== undefined) err.cause = cause;
  return err;
}

/**
 * Translate whatever a Node stream or socket reported into the Python exception a coroutine should see.
 * Errors that are already Python's (or not system errors at all) pass through unchanged.
 */
export function fromNodeError(err: unknown, text?: string): unknown {
  if (err instanceof OSError) return err;
  const special = fromNodeTlsOrDnsError(err);
  if (special !== undefined) return special;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return err;
  return makeOSError(code, text, err);
}

/** Python's ssl.SSLError (an OSError): a TLS failure that is not a certificate check. */
export class SSLError extends OSError {
  /** OpenSSL's reason, as Python's `reason` ('CERTIFICATE_VERIFY_FAILED', …). */
  declare reason?: string;
}
Object.defineProperty(SSLError.prototype, 'name', { value: 'SSLError', writable: true, configurable: true });

/** Python's ssl.SSLCertVerificationError: the peer's certificate did not verify. */
export class SSLCertVerificationError extends SSLError {
  declare verifyMessage?: string;
}
Object.defineProperty(SSLCertVerificationError.prototype, 'name', {
  value: 'SSLCertVerificationError',
  writable: true,
  configurable: true,
});

// getaddrinfo failures: Python raises socket.gaierror with glibc's EAI_* numbers and wording.
const GAI_ERRORS: Record<string, [number, string]> = {
  ENOTFOUND: [-2, 'Name or service not known'],
  EAI_NONAME: [-2, 'Name or service not known'],
  EAI_AGAIN: [-3, 'Temporary failure in name resolution'],
  EAI_FAIL: [-4, 'Non-recoverable failure in name resolution'],
};

/** Certificate verification codes Node (OpenSSL) reports; anything else TLS-ish is an SSLError. */
const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A TLS or DNS error from Node as Python's exception, or undefined if it is neither. */
export function fromNodeTlsOrDnsError(err: unknown): OSError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const message = (err as Error).message;
  const gai = GAI_ERRORS[code];
  if (gai !== undefined) {
    const e = new OSError(`[Errno ${gai[0]}] ${gai[1]}`);
    e.errno = gai[0];
    e.strerror = gai[1];
    e.code = code;
    e.cause = err;
    return e;
  }
  if (CERT_CODES.has(code)) {
    const e = new SSLCertVerificationError(
      `[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ${message}`,
    );
    e.errno = 1;
    e.reason = 'CERTIFICATE_VERIFY_FAILED';
    e.verifyMessage = message;
    e.strerror = message;
    e.code = code;
    e.cause = err;
    return e;
  }
  if (
    code.startsWith('ERR_SSL_') ||
    code.startsWith('ERR_TLS_') ||
    (err as { library?: unknown }).library === 'SSL routines'
  ) {
    const reason = (err as { reason?: string }).reason ?? code.replace(/^ERR_(SSL|TLS)_/, '');
    const e = new SSLError(`[SSL: ${String(reason).toUpperCase().replace(/ /g, '_')}] ${message}`);
    e.errno = 1;
    e.reason = String(reason).toUpperCase().replace(/ /g, '_');
    e.strerror = message;
    e.code = code;
    e.cause = err;
    return e;
  }
  return undefined;
}
