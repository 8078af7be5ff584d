#!/usr/bin/env node
// Installed entry point: TypeScript sources and .ts configs load through tsx.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli.ts');
