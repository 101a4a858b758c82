/** Every CLI command. A new command adds one import and one entry. */
import type { Command } from '../command.ts';
import { simulateCommand } from './simulate.ts';
import { replayCommand } from './replay.ts';
import { exportCommand } from './export.ts';
import { importCommand } from './import.ts';

export const COMMANDS: Command[] = [
  simulateCommand,
  replayCommand,
  exportCommand,
  importCommand,
];
