import type { TSESLint } from '@typescript-eslint/utils';

export interface NoFloatingCoroutineOptions {
  /** Also report a dropped Task (default false: fire-and-forget `createTask()` is idiomatic). */
  checkTasks?: boolean;
  /** Also report a dropped Future (default false). */
  checkFutures?: boolean;
}

export declare const noFloatingCoroutine: TSESLint.RuleModule<
  | 'floating'
  | 'floatingTask'
  | 'floatingFuture'
  | 'awaitCoroutine'
  | 'voidCallback'
  | 'yieldAwaitable'
  | 'yieldPromise'
  | 'suggestYieldStar'
  | 'suggestVoid'
  | 'suggestFromPromise',
  [NoFloatingCoroutineOptions]
>;

/** Flat config: the plugin, with `tsyncio/no-floating-coroutine` as an error. */
export declare const recommended: TSESLint.FlatConfig.Config;

declare const plugin: {
  meta: { name: string; version: string };
  rules: { 'no-floating-coroutine': typeof noFloatingCoroutine };
  configs: { recommended: TSESLint.FlatConfig.Config };
};
export default plugin;
