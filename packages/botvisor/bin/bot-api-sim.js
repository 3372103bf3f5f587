#!/usr/bin/env node
// The `bot-api-sim` command: the local Telegram Bot API (packages/bot-api-sim).
import { runBuilt } from './run-built.js';

await runBuilt('@botvisor/bot-api-sim/bin', 'bot-api-sim');
