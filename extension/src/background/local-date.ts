/**
 * `ms` as YYYY-MM-DD in the browser's own time zone: the day a person would name it (an export at 8 pm in
 * California is that day's backup, not the next day's UTC date).
 */
export function localDate(ms: number): string {
  const date = new Date(ms);
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}
