/** Every CLI command. A new command adds one import and one entry. */
import type { Command } from '../command.ts';
import { simulateCommand } from './simulate.ts';
import { replayCommand } from './replay.ts';
import { exportCommand } from './export.ts';
import { importCommand } from './import.ts';
import { memoryImportCommand } from './memory-import.ts';
import { memorySearchCommand } from './memory-search.ts';
import { memoryReindexCommand } from './memory-reindex.ts';
import { workerCommand } from './worker.ts';
import { inspectCommand } from './inspect.ts';
import { copyCommand } from './copy.ts';
import { connectionsListCommand } from './connections-list.ts';
import { connectionsTestCommand } from './connections-test.ts';

export const COMMANDS: Command[] = [
  simulateCommand,
  replayCommand,
  exportCommand,
  importCommand,
  memoryImportCommand,
  memorySearchCommand,
  memoryReindexCommand,
  workerCommand,
  inspectCommand,
  copyCommand,
  connectionsListCommand,
  connectionsTestCommand,
];
