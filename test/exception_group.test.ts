/**
 * ExceptionGroup basics (PEP 654): construction errors, str, derive, split and subgroup. Every expectation
 * was checked against CPython 3.14 (the Python statement is quoted beside it).
 */
import { ExceptionGroup, ValueError } from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { thrown } from './helpers.js';

function sample() {
  const v1 = new ValueError('1');
  const t1 = new TypeError('2');
  const v2 = new ValueError('3');
  const inner = new ExceptionGroup('inner', [v2, t1]);
  const eg = new ExceptionGroup('msg', [v1, inner]);
  return { v1, t1, v2, inner, eg };
}

describe('ExceptionGroup', () => {
  it('str() counts the sub-exceptions; rawMessage is Python’s .message; args as Python', () => {
    const { eg, v1 } = sample();
    // str(eg) == 'msg (2 sub-exceptions)'; eg.message == 'msg'
    expect(eg.message).toBe('msg (2 sub-exceptions)');
    expect(String(eg)).toBe('ExceptionGroup: msg (2 sub-exceptions)');
    expect(eg.rawMessage).toBe('msg');
    expect(String(new ExceptionGroup('one', [v1]))).toBe('ExceptionGroup: one (1 sub-exception)');
    // eg.args == ('msg', [ValueError(1), ExceptionGroup('inner', ...)])
    expect(eg.args[0]).toBe('msg');
    expect(eg.args[1]).toEqual([...eg.exceptions]);
    expect(eg).toBeInstanceOf(AggregateError);
    expect(eg.errors).toEqual([...eg.exceptions]);
  });

  it('refuses a non-str message, a non-sequence and an empty sequence with Python’s messages', () => {
    let e = thrown(() => new ExceptionGroup('m', []));
    expect(e).toBeInstanceOf(ValueError);
    expect(e.message).toBe('second argument (exceptions) must be a non-empty sequence');
    e = thrown(() => new ExceptionGroup(1 as any, [new ValueError()]));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe('BaseExceptionGroup.__new__() argument 1 must be str, not int');
    e = thrown(() => new ExceptionGroup('m', new ValueError() as any));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe('second argument (exceptions) must be a sequence');
  });

  it('split() keeps the nesting and copies cause and context to both halves', () => {
    const { eg, v1, v2, t1 } = sample();
    const cause = new RangeError('c');
    const context = new RangeError('ctx');
    eg.cause = cause;
    (eg as { context?: unknown }).context = context;
    const [m, r] = eg.split(ValueError);
    // ExceptionGroup('msg', [ValueError(1), ExceptionGroup('inner', [ValueError(3)])])
    expect(m!.rawMessage).toBe('msg');
    expect(m!.exceptions[0]).toBe(v1);
    const mInner = m!.exceptions[1] as ExceptionGroup;
    expect(mInner.rawMessage).toBe('inner');
    expect(mInner.exceptions).toEqual([v2]);
    // ExceptionGroup('msg', [ExceptionGroup('inner', [TypeError(2)])])
    expect(r!.exceptions.length).toBe(1);
    const rInner = r!.exceptions[0] as ExceptionGroup;
    expect(rInner.rawMessage).toBe('inner');
    expect(rInner.exceptions[0]).toBe(t1);
    expect(m!.cause).toBe(cause);
    expect(r!.cause).toBe(cause);
    expect((m as { context?: unknown }).context).toBe(context);
  });

  it('subgroup(): undefined when nothing matches, the group itself when the group matches', () => {
    const { eg } = sample();
    // eg.subgroup(ValueError) is not eg; eg.subgroup(Exception) is eg; eg.subgroup(KeyError) is None
    expect(eg.subgroup(ValueError)).not.toBe(eg);
    expect(eg.subgroup(Error)).toBe(eg);
    expect(eg.subgroup(RangeError)).toBeUndefined();
  });

  it('a predicate sees the nested groups themselves, then the leaves', () => {
    const { eg, v1, inner } = sample();
    // split(lambda e: isinstance(e, ExceptionGroup) and e.message == 'inner')
    //   == (EG('msg', [EG('inner', [ValueError(3), TypeError(2)])]), EG('msg', [ValueError(1)]))
    const [m, r] = eg.split((e) => e instanceof ExceptionGroup && e.rawMessage === 'inner');
    expect(m!.exceptions).toEqual([inner]);
    expect(m!.exceptions[0]).toBe(inner);
    expect(r!.exceptions.length).toBe(1);
    expect(r!.exceptions[0]).toBe(v1);
  });

  it('a list of classes matches any of them; when every leaf matches, a new group is still built', () => {
    const { eg } = sample();
    // s = eg.split((TypeError, ValueError)); s[0] is eg → False; s[1] → None
    const [m, r] = eg.split([TypeError, ValueError]);
    expect(m).not.toBe(eg);
    expect(r).toBeUndefined();
    const all = new ExceptionGroup('all', [new ValueError('1'), new ValueError('2')]);
    expect(all.subgroup(ValueError)).not.toBe(all);
    expect(all.subgroup(ValueError)!.exceptions).toEqual([...all.exceptions]);
  });

  it('derive() makes a group with the same message around other exceptions (no cause copied)', () => {
    const { eg, t1 } = sample();
    eg.cause = new RangeError('c');
    // eg.derive([t1]) == ExceptionGroup('msg', [TypeError(2)]); its __cause__ is None
    const d = eg.derive([t1]);
    expect(d).toBeInstanceOf(ExceptionGroup);
    expect(d.rawMessage).toBe('msg');
    expect(d.exceptions).toEqual([t1]);
    expect(d.cause).toBeUndefined();
  });

  it('refuses a matcher that is neither a class, a list of classes nor a predicate', () => {
    const { eg } = sample();
    for (const m of [1, 'x', [ValueError, 1]]) {
      const e = thrown(() => eg.split(m as any));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toBe(
        'expected an exception type, a tuple of exception types, or a callable (other than a class)',
      );
    }
  });
});
