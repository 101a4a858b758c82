/**
 * `chimera` — the command-line entry. A refusal (bad arguments, bad input files, domain
 * errors) is exactly one line on stderr and exit code 2; a failure of the work itself is one
 * line and exit code 1. Usage text appears only with --help; never a stack trace unless
 * CHIMERA_DEBUG=1.
 */
import { ChimeraError } from '../domain/errors.ts';
import { COMMANDS } from './commands/index.ts';
import { UsageError, oneLine, type CliIo, type Command } from './command.ts';
import { parseCommandArgs } from './args.ts';
import { preflight } from './preflight.ts';

function findCommand(argv: string[]): { cmd: Command; rest: string[] } | null {
  // longest match first: "memory search" before "memory"
  const sorted = [...COMMANDS].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length);
  for (const cmd of sorted) {
    const words = cmd.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) return { cmd, rest: argv.slice(words.length) };
  }
  return null;
}

function help(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'chimera — Chimera Studio command line',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    'Run "chimera COMMAND --help" for a command\'s options.',
  ].join('\n');
}

const isHelp = (a: string): boolean => a === '--help' || a === '-h';

export async function main(argv: string[], io: CliIo): Promise<number> {
  const refuse = (line: string): number => {
    io.stderr.write(`${oneLine(line)}\n`);
    return 2;
  };
  if (argv.length === 0) return refuse('chimera: give a command (run "chimera --help" for the list)');
  if (isHelp(argv[0] as string) || argv[0] === 'help') {
    io.stdout.write(help() + '\n');
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    // a group of commands ("memory", "connections") is named with the word after it
    const groups = new Set(COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]));
    const asked = groups.has(argv[0] as string) && argv[1] !== undefined ? `${argv[0]} ${argv[1]}` : (argv[0] as string);
    return refuse(`chimera: unknown command "${asked}" (commands: ${COMMANDS.map((c) => c.name).join(', ')}; see "chimera --help")`);
  }
  const { cmd, rest } = found;
  const end = rest.indexOf('--');
  if ((end < 0 ? rest : rest.slice(0, end)).some(isHelp)) {
    io.stdout.write(`${cmd.summary}\n\nUsage:\n${cmd.usage}\n`);
    return 0;
  }
  try {
    const args = parseCommandArgs(cmd, rest);
    preflight(cmd.name, args, io);
    return await cmd.run(args, io);
  } catch (e) {
    if (io.env.CHIMERA_DEBUG === '1' && e instanceof Error) io.stderr.write(`${e.stack}\n`);
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof UsageError || e instanceof ChimeraError) return refuse(`chimera ${cmd.name}: ${message}`);
    io.stderr.write(`chimera ${cmd.name}: ${oneLine(message)}\n`);
    return 1;
  }
}
