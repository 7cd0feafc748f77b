// The package's entry for AssemblyScript's resolver, which reads
// <package>/index.ts: the SDK is assembly/index.ts.
export * from "./assembly/index";
