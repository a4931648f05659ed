/**
 * Python's exception classes as JavaScript shows them: `console.log(err)` (util.inspect) prints the
 * error's own properties, so an OSError must not carry `errno`/`strerror`/`code` properties it was never
 * given (Python's repr of `TimeoutError()` is just `TimeoutError()`).
 */
import { inspect } from 'node:util';
import { ConnectionResetError, OSError, TimeoutError } from 'tsyncio';
import { SSLCertVerificationError, SSLError } from 'tsyncio/node';
import { describe, expect, it } from 'vitest';

describe('OSError and subclasses print only what is set', () => {
  it('a bare TimeoutError has no errno/strerror/code properties', () => {
    for (const err of [new TimeoutError(), new OSError('x'), new ConnectionResetError('y')]) {
      expect(Object.keys(err)).toEqual([]);
      const shown = inspect(err);
      expect(shown).not.toMatch(/errno|strerror|code/);
      expect(shown).not.toContain('undefined');
    }
    for (const err of [new SSLError('tls'), new SSLCertVerificationError('cert')]) {
      expect(Object.keys(err)).toEqual([]);
      expect(inspect(err)).not.toContain('undefined');
    }
  });

  it('what is set is shown, and typed', () => {
    const err = new ConnectionResetError('[Errno 104] Connection reset by peer');
    err.errno = 104;
    err.code = 'ECONNRESET';
    const shown = inspect(err);
    expect(shown).toContain('errno: 104');
    expect(shown).toContain("code: 'ECONNRESET'");
    expect(shown).not.toContain('strerror');
    expect(err.strerror).toBeUndefined();
  });
});
