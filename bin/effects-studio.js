#!/usr/bin/env node
// The `effects-studio` command: runs the TypeScript CLI (src/main/cli) under Node through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/main/cli/index.ts');
