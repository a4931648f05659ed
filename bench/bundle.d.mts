export interface BundleSize {
  minified: number;
  gzip: number;
  /** [module path relative to the repository, minified bytes it contributes], largest first */
  modules: [string, number][];
  version?: string;
}
export const BUNDLE_TARGETS: { minimal: number; full: number };
export function measureBundles(): Promise<{ minimal: BundleSize; full: BundleSize; effection?: BundleSize }>;
