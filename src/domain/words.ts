/**
 * What counts as a word wherever text is read by rule (the hashing embedder, the Judge's topic
 * rules): a run of [a-z0-9'] in the lower-cased text.
 */
export const isWordChar = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 39;
