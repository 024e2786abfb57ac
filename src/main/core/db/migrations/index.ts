// The ordered list of schema migrations; to change the schema add the next numbered file and list it here.
import { migration001 } from './001-initial.ts';
import type { Migration } from './types.ts';

/** Every migration, oldest first; `MIGRATIONS[i].version === i + 1`. */
export const MIGRATIONS: readonly Migration[] = [migration001];

export type { Migration } from './types.ts';
