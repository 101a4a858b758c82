/** A URL with its password replaced by *** (user and host kept), for messages; never the password. */
export function redactPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
