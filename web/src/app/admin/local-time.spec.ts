import { isoToLocalInput, localInputToIso } from './local-time';

describe('local time conversion', () => {
  it('round-trips through the datetime-local format', () => {
    const iso = '2026-12-31T19:00:00.000Z';
    const local = isoToLocalInput(iso);
    expect(local).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
    expect(localInputToIso(local)).toBe(iso);
  });
});
