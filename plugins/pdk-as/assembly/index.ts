// @hookrt/pdk-as: the AssemblyScript SDK for hookd plugins. It implements
// the hookd_v1 ABI (hostapi/ABI.md in the hookd repository); a plugin never
// sees a pointer, a status code or a buffer size. See README.md.
//
// Every module here is public; the SDK's own plumbing is in internal/.
// (Only `export *` lines: asc 0.28 loses names re-exported by name when
// the package's index.ts star-exports this file.)

export * from "./plugin";
export * from "./event";
export * from "./reply";
export * from "./xml";
export * from "./errors";
export * from "./config";
export * from "./json";
export * from "./jsonwriter";
export * from "./log";
export * from "./http";
export * from "./jwt";
export * from "./state";
export * from "./utf8";
export * from "./signup";
