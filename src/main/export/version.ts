// The studio version written into every manifest (read from package.json at build time, so bundled workers have it).
import pkg from '../../../package.json' with { type: 'json' };

/** This studio's version. */
export const STUDIO_VERSION: string = pkg.version;
