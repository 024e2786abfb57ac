// Types of fxpkg.js (the consumer page's package reader), for the tests that run it under Node.

/** Reads and checks a package's entries and manifest; throws with a message naming what is wrong. */
export function readPackage(buffer: ArrayBuffer): Promise<{ manifest: { name: string; formatVersion: number }; entries: Map<string, Uint8Array> }>;
