import { Type } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { Observable, of, throwError } from 'rxjs';
import { makeEvent } from '../../testing/fixtures';
import { provideTestTranslations } from '../../testing/providers';
import { AdminEvents } from '../admin/admin-events';
import { EventPage, TicketEvent } from '../core/models';
import { EventList } from './event-list';
import { EventsApi } from './events-api';

const at = (id: number, starts_at: string): TicketEvent =>
  makeEvent({ id, name: `Event ${id}`, starts_at, timezone: 'UTC' });
const page = (items: TicketEvent[]): EventPage => ({
  items,
  total: items.length,
  limit: 200,
  offset: 0,
});
const past = at(1, '2000-01-01T00:00:00Z');
const future = at(2, '2999-01-01T00:00:00Z');

describe('the polled event lists', () => {
  function render<T>(component: Type<T>, list: () => Observable<EventPage>) {
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        provideTestTranslations(),
        { provide: EventsApi, useValue: { list } },
      ],
    });
    const fixture = TestBed.createComponent(component);
    const root = fixture.nativeElement as HTMLElement;
    const shown = async (selector: string, count: number) =>
      vi.waitFor(async () => {
        await fixture.whenStable();
        expect(root.querySelectorAll(selector)).toHaveLength(count);
      });
    return { root, shown };
  }

  it('shows customers the upcoming events only', async () => {
    const { root, shown } = render(EventList, () => of(page([past, future])));
    await shown('[data-testid="event-card"]', 1);
    expect(root.querySelector('[data-event-id="2"]')).not.toBeNull();
  });

  it('shows admins every event', async () => {
    const { shown } = render(AdminEvents, () => of(page([past, future])));
    await shown('[data-testid="admin-event"]', 2);
  });

  it('says when the list could not be loaded', async () => {
    const { shown } = render(EventList, () => throwError(() => new Error('offline')));
    await shown('[data-testid="events-error"]', 1);
  });
});
