import { WhenPipe } from './format';

describe('WhenPipe', () => {
  const when = new WhenPipe();

  it('shows an event’s time on its own zone’s clocks, labelled', () => {
    const text = when.transform('2026-12-31T12:00:00Z', 'en', 'full', 'Asia/Bangkok');
    expect(text).toContain('31 Dec 2026');
    expect(text).toContain('19:00');
    expect(text).toMatch(/\(Asia\/Bangkok\)$/);
    expect(when.transform('2026-12-31T12:00:00Z', 'en', 'short', 'UTC')).toContain('12:00 (UTC)');
  });

  it('falls back to labelled UTC for an unknown zone', () => {
    expect(when.transform('2026-12-31T12:00:00Z', 'en', 'short', 'Nowhere/Land')).toContain(
      '12:00 (UTC)',
    );
  });
});
