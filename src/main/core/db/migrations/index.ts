// The ordered list of schema migrations; to change the schema add the next numbered file and list it here.
import { migration001 } from './001-initial.ts';
import { migration002 } from './002-datasets.ts';
import { migration003 } from './003-teachers.ts';
import { migration004 } from './004-student-runs.ts';
import { migration005 } from './005-effects.ts';
import { migration006 } from './006-exports.ts';
import { migration007 } from './007-onnx-teachers.ts';
import type { Migration } from './types.ts';

/**
 * Every migration, oldest first; `MIGRATIONS[i].version === i + 1`. A migration's test brings a database to the
 * version before it with `migrate(db, MIGRATIONS.slice(0, n - 1))`, seeds data, then migrates to the newest.
 */
export const MIGRATIONS: readonly Migration[] = [migration001, migration002, migration003, migration004, migration005, migration006, migration007];

export type { Migration } from './types.ts';
