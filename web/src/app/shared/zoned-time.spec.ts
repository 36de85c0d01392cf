import { isoToZonedInput, isTimeZone, zonedInputToIso, zoneOffsetMs } from './zoned-time';

describe('times in an event’s zone', () => {
  it('reads wall time in the event’s zone, not the browser’s', () => {
    expect(zonedInputToIso('2026-12-31T19:00', 'Asia/Bangkok')).toBe('2026-12-31T12:00:00.000Z');
    expect(zonedInputToIso('2026-12-31T19:00', 'UTC')).toBe('2026-12-31T19:00:00.000Z');
    expect(zonedInputToIso('2026-07-01T09:30', 'Europe/London')).toBe('2026-07-01T08:30:00.000Z');
  });

  it('shows an instant as wall time in the zone', () => {
    expect(isoToZonedInput('2026-12-31T12:00:00Z', 'Asia/Bangkok')).toBe('2026-12-31T19:00');
    expect(isoToZonedInput('2026-01-15T08:30:00Z', 'America/New_York')).toBe('2026-01-15T03:30');
  });

  it('round-trips across a DST change', () => {
    for (const wall of ['2026-03-29T00:30', '2026-03-29T03:00', '2026-10-25T03:00']) {
      expect(isoToZonedInput(zonedInputToIso(wall, 'Europe/Berlin'), 'Europe/Berlin')).toBe(wall);
    }
  });

  it('knows offsets and zone names', () => {
    expect(zoneOffsetMs(Date.parse('2026-06-01T00:00:00Z'), 'Asia/Bangkok')).toBe(7 * 3600_000);
    expect(isTimeZone('Asia/Bangkok')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
