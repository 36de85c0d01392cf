/**
 * Times in an event's own zone (its IANA `timezone`), never the browser's: an organiser in
 * London sets up a Bangkok concert in Bangkok time, and a buyer anywhere reads it so.
 * `<input type="datetime-local">` speaks wall time; the API speaks UTC ISO 8601.
 */

const WALL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

/** The zone's offset from UTC (ms) at the instant `utcMs`. */
export function zoneOffsetMs(utcMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value);
  const wall = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return wall - Math.floor(utcMs / 1000) * 1000;
}

/** "2026-12-31T19:00" on the clocks of `timeZone` → the UTC ISO instant. */
export function zonedInputToIso(value: string, timeZone: string): string {
  const match = WALL.exec(value);
  if (!match) throw new Error(`not a datetime-local value: ${value}`);
  const [, y, mo, d, h, mi] = match.map(Number);
  const asUtc = Date.UTC(y, mo - 1, d, h, mi);
  // The offset at the guess may differ from the one at the answer across a DST change.
  let instant = asUtc - zoneOffsetMs(asUtc, timeZone);
  const again = asUtc - zoneOffsetMs(instant, timeZone);
  if (again !== instant) instant = again;
  return new Date(instant).toISOString();
}

/** A UTC ISO instant → "YYYY-MM-DDTHH:mm" on the clocks of `timeZone`. */
export function isoToZonedInput(iso: string, timeZone: string): string {
  const utc = Date.parse(iso);
  const wall = new Date(utc + zoneOffsetMs(utc, timeZone));
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${wall.getUTCFullYear()}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}` +
    `T${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}`
  );
}

/** Whether the runtime knows the IANA zone `name`. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The IANA zones to choose from (the runtime's list, UTC included). */
export function timeZones(): string[] {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
  const zones = intl.supportedValuesOf?.('timeZone') ?? [];
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
}

/** The browser's own zone: only a suggestion for a new event's form, never assumed. */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}
