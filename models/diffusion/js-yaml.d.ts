// The one function of js-yaml 4 (MIT, CommonJS, no bundled types) that Resona calls, and the schema it
// passes. js-yaml 4's load builds plain data only (the code-running !!js types were removed in 4.0).
declare module 'js-yaml' {
  export interface Schema {
    readonly __schema: unique symbol;
  }
  export const CORE_SCHEMA: Schema;
  export interface LoadOptions {
    filename?: string;
    schema?: Schema;
    json?: boolean;
  }
  export function load(text: string, options?: LoadOptions): unknown;
  export class YAMLException extends Error {
    reason: string;
  }
  const yaml: { load: typeof load; CORE_SCHEMA: Schema; YAMLException: typeof YAMLException };
  export default yaml;
}
