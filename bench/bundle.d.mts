export interface BundleSize {
  minified: number;
  gzip: number;
  /** [module path relative to the repository, minified bytes it contributes], largest first */
  modules: [string, number][];
  version?: string;
}
export const BUNDLE_TARGETS: { minimal: number; full: number };
export function measureBundles(): Promise<{ minimal: BundleSize; full: BundleSize; effection?: BundleSize }>;
/** The portable entry (src/index.ts), as a module specifier for programs given to bundleProgram. */
export const ENTRY: string;
/** `source` (ESM importing from ENTRY) bundled as measureBundles does: the code as text and its modules. */
export function bundleProgram(source: string): Promise<{ code: string; modules: [string, number][] }>;
