/** Every CLI command. A new command adds one import and one entry. */
import type { Command } from '../command.ts';
import { simulateCommand } from './simulate.ts';
import { replayCommand } from './replay.ts';

export const COMMANDS: Command[] = [
  simulateCommand,
  replayCommand,
];
