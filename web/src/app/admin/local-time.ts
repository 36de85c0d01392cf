/** `<input type="datetime-local">` speaks local wall time; the API speaks UTC ISO 8601. */

export function isoToLocalInput(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

export function localInputToIso(value: string): string {
  return new Date(value).toISOString();
}
