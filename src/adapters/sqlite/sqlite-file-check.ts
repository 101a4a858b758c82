/**
 * Looks at a database file before SQLite touches it, so a file that is not a SQLite database,
 * or that was cut short, is refused with a message that names it and says what is wrong,
 * and nothing is written to it. Only the 100-byte header and the file size are read.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { BadDatabaseError } from '../../domain/errors.ts';

const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const HEADER_BYTES = 100;

/** What the header check found: no file (or an empty one) to create, or a SQLite file. */
export type FileState = 'new' | 'sqlite';

function bad(file: string, problem: string, message: string): BadDatabaseError {
  return new BadDatabaseError(`${file} ${message}; the file was not changed.`, { file, problem });
}

/**
 * Checks the header of `file`. A missing or empty file is 'new'. A file without the SQLite
 * header is refused as not a database; a header whose page count needs more bytes than the
 * file has is refused as truncated (unless a write-ahead log beside it may still complete it).
 */
export function checkSqliteFile(file: string): FileState {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw bad(file, 'directory', 'is a directory, not a database file');
    size = st.size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'new';
    throw e;
  }
  if (size === 0) return 'new';
  const header = Buffer.alloc(HEADER_BYTES);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw bad(file, 'unreadable', `cannot be read (${(e as Error).message})`);
  }
  let got: number;
  try {
    got = readSync(fd, header, 0, HEADER_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  const magicLen = Math.min(got, MAGIC.length);
  if (!header.subarray(0, magicLen).equals(MAGIC.subarray(0, magicLen))) {
    throw bad(file, 'not_sqlite', 'is not a SQLite database (it does not start with the "SQLite format 3" header)');
  }
  if (got < HEADER_BYTES) {
    throw bad(file, 'truncated', `is truncated: ${got} bytes, shorter than the 100-byte SQLite header`);
  }
  const rawPage = header.readUInt16BE(16);
  const page_size = rawPage === 1 ? 65536 : rawPage;
  if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) !== 0) {
    throw bad(file, 'corrupt', `has a corrupt header (page size ${rawPage})`);
  }
  if (hasWal(file)) return 'sqlite'; // a checkpoint cut short is completed from the log on open
  if (size % page_size !== 0) {
    throw bad(file, 'truncated', `is truncated: ${size} bytes is not a whole number of ${page_size}-byte pages`);
  }
  const change_counter = header.readUInt32BE(24);
  const pages = header.readUInt32BE(28);
  const valid_for = header.readUInt32BE(92);
  if (pages > 0 && valid_for === change_counter && size < pages * page_size) {
    throw bad(
      file,
      'truncated',
      `is truncated: its header says ${pages} pages of ${page_size} bytes (${pages * page_size} bytes) but the file has ${size} bytes`,
    );
  }
  return 'sqlite';
}

function hasWal(file: string): boolean {
  try {
    return statSync(`${file}-wal`).size > 0;
  } catch {
    return false;
  }
}
