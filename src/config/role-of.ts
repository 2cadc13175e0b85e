/** The role a postgres:// URL logs in as (null: none named, libpq's default applies). */
export function roleOf(url: string): string | null {
  try {
    const name = decodeURIComponent(new URL(url).username);
    return name === '' ? null : name;
  } catch {
    return null;
  }
}
