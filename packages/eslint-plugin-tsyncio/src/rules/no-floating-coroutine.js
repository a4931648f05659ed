// @ts-check
/**
 * no-floating-coroutine: a tsyncio coroutine that is created and dropped never runs (Python's
 * "coroutine was never awaited", pyright's reportUnusedCoroutine, mypy's unused-coroutine). Reports:
 *  - an expression statement whose value is a Coroutine (or an awaitable helper generator): `work();`
 *    (`void work()` is an explicit discard); with options, a dropped Task or Future too;
 *  - `await coro()` in ordinary async code: a Coroutine is not a promise, `await` returns it unrun;
 *  - a coroutine returned to a callback whose result is ignored: `items.forEach((i) => work(i))`;
 *  - `yield x` (not `yield*`) of a Coroutine, Future, Task (anywhere) or of a promise (in a coroutine
 *    body), with a suggestion to write `yield*`.
 * tsyncio's types are recognised by the package that declares them (its package.json's name is
 * "tsyncio"), so the rule works from node_modules, from a linked package and inside tsyncio itself.
 */

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ESLintUtils } from '@typescript-eslint/utils';
import ts from 'typescript';

/** The compile-time instruction type of tsyncio (coroutines.ts): a generator yielding it is awaitable. */
const INSTRUCTION = 'tsyncio: use yield*, not yield';

const createRule = ESLintUtils.RuleCreator(
  (name) => `https://github.com/tsyncio/tsyncio/blob/main/packages/eslint-plugin-tsyncio/README.md#${name}`,
);

/** Directory → is it inside the tsyncio package (nearest package.json named "tsyncio")? */
const packageCache = new Map();

/** @param {string} dir */
function inTsyncioPackage(dir) {
  const cached = packageCache.get(dir);
  if (cached !== undefined) return cached;
  let result = false;
  let found = false;
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    found = true;
    result = pkg.name === 'tsyncio';
  } catch {
    // no (readable) package.json here: ask the parent
  }
  if (!found) {
    const parent = dirname(dir);
    result = parent !== dir && inTsyncioPackage(parent);
  }
  packageCache.set(dir, result);
  return result;
}

/** @param {ts.Symbol | undefined} symbol */
function declaredByTsyncio(symbol) {
  const decl = symbol?.declarations?.[0];
  if (!decl) return false;
  return inTsyncioPackage(dirname(decl.getSourceFile().fileName));
}

/**
 * What a type is to tsyncio: 'coroutine' (a Coroutine, or a generator that yields tsyncio
 * instructions: a @coroutineMethod's or a helper's), 'task', 'future', 'promise' (a thenable) or null.
 * A union is its most serious member.
 * @param {ts.TypeChecker} checker
 * @param {ts.Type} type
 * @returns {'coroutine' | 'task' | 'future' | 'promise' | null}
 */
function classify(checker, type) {
  if (type.isUnion()) {
    /** @type {'coroutine' | 'task' | 'future' | 'promise' | null} */
    let best = null;
    const order = ['promise', 'future', 'task', 'coroutine'];
    for (const t of type.types) {
      const k = classify(checker, t);
      if (k !== null && (best === null || order.indexOf(k) > order.indexOf(best))) best = k;
    }
    return best;
  }
  if (type.isIntersection()) {
    for (const t of type.types) {
      const k = classify(checker, t);
      if (k !== null) return k;
    }
    return null;
  }
  const cls = classOf(checker, type);
  if (cls !== null) return cls;
  if (yieldsInstructions(checker, type)) return 'coroutine';
  const then = type.getProperty('then');
  if (then !== undefined) {
    const thenType = checker.getTypeOfSymbol(then);
    if (thenType.getCallSignatures().length > 0) return 'promise';
  }
  return null;
}

/**
 * Coroutine / Task / Future, for tsyncio's classes and classes derived from them.
 * @param {ts.TypeChecker} checker
 * @param {ts.Type} type
 * @returns {'coroutine' | 'task' | 'future' | null}
 */
function classOf(checker, type) {
  /** @type {ts.Type[]} */
  const todo = [type];
  const seen = new Set();
  while (todo.length > 0) {
    const t = /** @type {ts.Type} */ (todo.pop());
    const target = /** @type {ts.TypeReference} */ (t).target ?? t;
    if (seen.has(target)) continue;
    seen.add(target);
    const symbol = target.getSymbol();
    if (symbol !== undefined && declaredByTsyncio(symbol)) {
      const name = symbol.getName();
      if (name === 'Coroutine') return 'coroutine';
      if (name === 'Task') return 'task';
      if (name === 'Future') return 'future';
    }
    if (target.isClassOrInterface()) todo.push(...(checker.getBaseTypes(target) ?? []));
  }
  return null;
}

/**
 * A generator whose yield type is tsyncio's instruction: an awaitable that runs only when awaited.
 * @param {ts.TypeChecker} checker
 * @param {ts.Type} type
 */
function yieldsInstructions(checker, type) {
  const next = type.getProperty('next');
  if (next === undefined || type.getProperty('throw') === undefined) return false;
  for (const sig of checker.getTypeOfSymbol(next).getCallSignatures()) {
    const result = checker.getReturnTypeOfSignature(sig);
    for (const member of result.isUnion() ? result.types : [result]) {
      const value = member.getProperty('value');
      if (value === undefined) continue;
      const valueType = checker.getTypeOfSymbol(value);
      for (const v of valueType.isUnion() ? valueType.types : [valueType]) {
        if (v.isStringLiteral() && v.value === INSTRUCTION) return true;
      }
    }
  }
  return false;
}

/**
 * The type a generator function's body yields, as declared or contextually expected: true if it is a
 * coroutine body (its generator yields tsyncio instructions).
 * @param {ts.TypeChecker} checker
 * @param {ts.SignatureDeclaration} fn
 */
function isCoroutineBody(checker, fn) {
  const sig = checker.getSignatureFromDeclaration(fn);
  if (sig !== undefined && yieldsInstructions(checker, checker.getReturnTypeOfSignature(sig))) return true;
  if (ts.isFunctionExpression(fn) || ts.isArrowFunction(fn)) {
    const contextual = checker.getContextualType(fn);
    if (contextual !== undefined) {
      for (const s of contextual.getCallSignatures()) {
        if (yieldsInstructions(checker, checker.getReturnTypeOfSignature(s))) return true;
      }
    }
  }
  return false;
}

/** @param {ts.Type} type */
function isVoidLike(type) {
  if (type.isUnion()) return type.types.every(isVoidLike);
  return (type.flags & (ts.TypeFlags.Void | ts.TypeFlags.Undefined)) !== 0;
}

/** @typedef {[{ checkTasks?: boolean; checkFutures?: boolean }]} Options */
/** @typedef {'floating' | 'floatingTask' | 'floatingFuture' | 'awaitCoroutine' | 'voidCallback' | 'yieldAwaitable' | 'yieldPromise' | 'suggestYieldStar' | 'suggestVoid' | 'suggestFromPromise'} MessageIds */

export default createRule({
  name: 'no-floating-coroutine',
  meta: {
    type: 'problem',
    docs: {
      description:
        'Require tsyncio coroutines to be awaited with `yield*` (or scheduled, or explicitly discarded)',
      requiresTypeChecking: true,
    },
    hasSuggestions: true,
    schema: [
      {
        type: 'object',
        properties: {
          checkTasks: {
            type: 'boolean',
            description: 'Also report a dropped Task (off: fire-and-forget createTask() is idiomatic).',
          },
          checkFutures: { type: 'boolean', description: 'Also report a dropped Future.' },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      floating:
        'This coroutine is never awaited, so it never runs. Await it with `yield*`, schedule it with `createTask()`, or discard it with `void`.',
      floatingTask:
        'This Task is dropped: keep a reference and await it (or create it in a TaskGroup), or discard it with `void`.',
      floatingFuture: 'This Future is dropped: await it with `yield*`, or discard it with `void`.',
      awaitCoroutine:
        '`await` does not run a tsyncio coroutine (it is not a promise): use `yield*` inside a coroutine, or `run()` / `createTask()` from async code.',
      voidCallback:
        'A coroutine returned to a callback whose result is ignored never runs: loop with `for` and `yield*` it, or `createTask()` it.',
      yieldAwaitable: 'A {{kind}} is awaited with `yield*`, not `yield`.',
      yieldPromise: 'A promise is awaited with `yield* fromPromise(promise)`, not `yield`.',
      suggestYieldStar: 'Use `yield*`.',
      suggestVoid: 'Discard the coroutine explicitly with `void` (it will not run).',
      suggestFromPromise: 'Use `yield* fromPromise(…)` (import fromPromise from tsyncio).',
    },
  },
  defaultOptions: /** @type {Options} */ ([{ checkTasks: false, checkFutures: false }]),
  create(context, [options]) {
    const services = ESLintUtils.getParserServices(context);
    const checker = services.program.getTypeChecker();
    const sourceCode = context.sourceCode;

    /** @param {import('@typescript-eslint/utils').TSESTree.Node} node */
    const kindOf = (node) => classify(checker, services.getTypeAtLocation(node)) ?? coroutineMethodCall(node);

    /**
     * A call of a `@coroutineMethod`: a coroutine at run time, whatever the method's declared type (one
     * that awaits nothing is typed as a plain `Generator<never, T>`).
     * @param {import('@typescript-eslint/utils').TSESTree.Node} node
     * @returns {'coroutine' | null}
     */
    function coroutineMethodCall(node) {
      if (node.type !== 'CallExpression') return null;
      const call = /** @type {ts.CallExpression} */ (services.esTreeNodeToTSNodeMap.get(node));
      const decl = checker.getResolvedSignature(call)?.declaration;
      if (decl === undefined || !ts.isMethodDeclaration(decl) || !ts.canHaveDecorators(decl)) return null;
      for (const d of ts.getDecorators(decl) ?? []) {
        const expr = ts.isCallExpression(d.expression) ? d.expression.expression : d.expression;
        const symbol = checker.getSymbolAtLocation(expr);
        const target =
          symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
        if (target?.getName() === 'coroutineMethod' && declaredByTsyncio(target)) return 'coroutine';
      }
      return null;
    }

    /**
     * Task made by TaskGroup.createTask: always fine (the group awaits it).
     * @param {import('@typescript-eslint/utils').TSESTree.Node} node
     */
    function isTaskGroupCreateTask(node) {
      if (node.type !== 'CallExpression' || node.callee.type !== 'MemberExpression') return false;
      const prop = node.callee.property;
      if (prop.type !== 'Identifier' || prop.name !== 'createTask') return false;
      const owner = services.getTypeAtLocation(node.callee.object);
      const symbol = owner.getSymbol();
      return symbol?.getName() === 'TaskGroup' && declaredByTsyncio(symbol);
    }

    return {
      ExpressionStatement(node) {
        let expr = node.expression;
        if (expr.type === 'ChainExpression') expr = expr.expression;
        if (expr.type === 'UnaryExpression' && expr.operator === 'void') return;
        if (expr.type === 'YieldExpression' || expr.type === 'AwaitExpression') return;
        if (expr.type === 'AssignmentExpression') return;
        const kind = kindOf(expr);
        if (kind === 'coroutine') {
          context.report({
            node,
            messageId: 'floating',
            suggest: [{ messageId: 'suggestVoid', fix: (fixer) => fixer.insertTextBefore(expr, 'void ') }],
          });
        } else if (kind === 'task' && options.checkTasks && !isTaskGroupCreateTask(expr)) {
          context.report({ node, messageId: 'floatingTask' });
        } else if (kind === 'future' && options.checkFutures) {
          context.report({ node, messageId: 'floatingFuture' });
        }
      },

      AwaitExpression(node) {
        if (kindOf(node.argument) === 'coroutine') context.report({ node, messageId: 'awaitCoroutine' });
      },

      /** `(x) => work(x)` passed where a void-returning function is expected. */
      'ArrowFunctionExpression[expression=true]'(node) {
        if (kindOf(node.body) !== 'coroutine') return;
        if (!expectsVoidReturn(node)) return;
        context.report({ node: node.body, messageId: 'voidCallback' });
      },

      ReturnStatement(node) {
        if (node.argument === null) return;
        /** @type {import('@typescript-eslint/utils').TSESTree.Node | undefined} */
        let fn = node.parent;
        while (
          fn !== undefined &&
          fn.type !== 'FunctionExpression' &&
          fn.type !== 'ArrowFunctionExpression' &&
          fn.type !== 'FunctionDeclaration'
        ) {
          fn = fn.parent;
        }
        if (fn === undefined || fn.type === 'FunctionDeclaration' || /** @type {any} */ (fn).generator)
          return;
        if (kindOf(node.argument) !== 'coroutine') return;
        if (!expectsVoidReturn(fn)) return;
        context.report({ node: node.argument, messageId: 'voidCallback' });
      },

      YieldExpression(node) {
        if (node.delegate || node.argument === null || node.argument === undefined) return;
        const argument = node.argument;
        const kind = kindOf(argument);
        if (kind === null) return;
        const yieldToken = sourceCode.getFirstToken(node);
        if (yieldToken === null) return;
        /** @param {import('@typescript-eslint/utils').TSESLint.RuleFixer} fixer */
        const yieldStar = (fixer) => fixer.insertTextAfter(yieldToken, '*');
        if (kind === 'promise') {
          const fn = services.esTreeNodeToTSNodeMap.get(node);
          let tsFn = fn.parent;
          while (tsFn !== undefined && !ts.isFunctionLike(tsFn)) tsFn = tsFn.parent;
          if (tsFn === undefined || !isCoroutineBody(checker, /** @type {ts.SignatureDeclaration} */ (tsFn)))
            return;
          context.report({
            node,
            messageId: 'yieldPromise',
            suggest: [
              {
                messageId: 'suggestFromPromise',
                fix: (fixer) => [
                  fixer.insertTextAfter(yieldToken, '*'),
                  fixer.replaceText(argument, `fromPromise(${sourceCode.getText(argument)})`),
                ],
              },
            ],
          });
          return;
        }
        context.report({
          node,
          messageId: 'yieldAwaitable',
          data: { kind: kind === 'coroutine' ? 'coroutine' : kind === 'task' ? 'Task' : 'Future' },
          suggest: [{ messageId: 'suggestYieldStar', fix: yieldStar }],
        });
      },
    };

    /**
     * The function is passed (or assigned) where a function returning void is expected.
     * @param {import('@typescript-eslint/utils').TSESTree.Node} fn
     */
    function expectsVoidReturn(fn) {
      const tsNode = /** @type {ts.Expression} */ (services.esTreeNodeToTSNodeMap.get(fn));
      const contextual = checker.getContextualType(tsNode);
      if (contextual === undefined) return false;
      const signatures = contextual.getCallSignatures();
      return (
        signatures.length > 0 && signatures.every((s) => isVoidLike(checker.getReturnTypeOfSignature(s)))
      );
    }
  },
});
