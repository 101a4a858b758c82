/**
 * Digests of a document made of named sections (a snapshot): the SHA-256 of each section's
 * canonical JSON, and one SHA-256 over the document's header and those section digests (the
 * whole digest). Any edit to a section changes its digest; any edit to the header or to a
 * recorded section digest changes the whole digest. So a check can name the section that does
 * not match, and a forger must recompute both levels.
 *
 * What this proves: the document is the one whose whole digest you hold. It detects edits and
 * corruption, not forgery: SHA-256 has no key, so whoever edits a section can recompute every
 * digest. Authenticity needs the whole digest (or the audit head it covers) from elsewhere.
 */
import crypto, { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';

/** The digest algorithm snapshots use. */
export const DIGEST_ALGORITHM = 'sha256';

// crypto.hash (Node ≥ 20.12) is the one-shot form
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash;

/** SHA-256 (hex) of the canonical JSON of `value`. */
export function canonicalSha256(value: unknown): string {
  const text = canonicalJson(value);
  return oneShot ? oneShot('sha256', text, 'hex') : createHash('sha256').update(text).digest('hex');
}

/** A document's digests: one per section, and the whole one over the header and those. */
export interface SectionDigests {
  readonly algorithm: typeof DIGEST_ALGORITHM;
  /** Section name → SHA-256 of its canonical JSON. */
  readonly sections: Readonly<Record<string, string>>;
  /** SHA-256 of the canonical JSON of `{ header, sections }`. */
  readonly whole: string;
}

/** Digests `sections` (name → value) and the whole over `header` and the section digests. */
export function digestSections(header: unknown, sections: Readonly<Record<string, unknown>>): SectionDigests {
  const out: Record<string, string> = {};
  for (const name of Object.keys(sections).sort()) out[name] = canonicalSha256(sections[name]);
  return { algorithm: DIGEST_ALGORITHM, sections: out, whole: wholeDigest(header, out) };
}

/** The whole digest of a header and its section digests. */
export function wholeDigest(header: unknown, sections: Readonly<Record<string, string>>): string {
  return canonicalSha256({ header, sections });
}

/** Where a recorded set of digests and a computed one differ. */
export interface DigestComparison {
  /** Sections whose content does not match the recorded digest (or that are missing on one side), sorted. */
  readonly sections: readonly string[];
  /** The recorded whole digest does not match the recorded header and section digests. */
  readonly whole: boolean;
}

/**
 * Compares digests recorded in a document with those computed from its content. The whole
 * digest is checked against the recorded section digests (so an edit that also rewrote a
 * section's digest is still caught there), the sections against their content.
 */
export function compareDigests(header: unknown, recorded: Pick<SectionDigests, 'sections' | 'whole'>, computed: SectionDigests): DigestComparison {
  const names = new Set([...Object.keys(recorded.sections), ...Object.keys(computed.sections)]);
  const sections = [...names].filter((n) => recorded.sections[n] !== computed.sections[n]).sort();
  return { sections, whole: wholeDigest(header, recorded.sections) !== recorded.whole };
}
