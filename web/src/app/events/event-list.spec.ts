import { TicketEvent } from '../core/models';
import { upcoming } from './event-list';

describe('upcoming', () => {
  it('drops events that have started', () => {
    const at = (id: number, starts_at: string) => ({ id, starts_at }) as TicketEvent;
    const now = Date.parse('2026-06-01T00:00:00Z');
    const events = [at(1, '2026-05-31T23:00:00Z'), at(2, '2026-06-01T01:00:00Z')];
    expect(upcoming(events, now).map((e) => e.id)).toEqual([2]);
  });
});
