// The ordered list of schema migrations; to change the schema add the next numbered file and list it here.
import { migration001 } from './001-initial.ts';
import type { Migration } from './types.ts';

/**
 * Every migration, oldest first; `MIGRATIONS[i].version === i + 1`. A migration's test brings a database to the
 * version before it with `migrate(db, MIGRATIONS.slice(0, n - 1))`, seeds data, then migrates to the newest.
 */
export const MIGRATIONS: readonly Migration[] = [migration001];

export type { Migration } from './types.ts';
