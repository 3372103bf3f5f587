#!/usr/bin/env node
// The `botvisor` command (packages/cli).
import { runBuilt } from './run-built.js';

await runBuilt('@botvisor/cli/bin', 'botvisor');
