/** Every CLI command. A new command adds one import and one entry. */
import type { Command } from '../command.ts';

export const COMMANDS: Command[] = [];
