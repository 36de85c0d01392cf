import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { of } from 'rxjs';
import { makeEvent } from '../../testing/fixtures';
import { provideTestTranslations } from '../../testing/providers';
import { EventsApi } from '../events/events-api';
import { EventForm } from './event-form';
import { TicketTypesApi } from './ticket-types-api';

describe('EventForm', () => {
  let fixture: ComponentFixture<EventForm>;
  let create: ReturnType<typeof vi.fn>;
  let update: ReturnType<typeof vi.fn>;
  const root = () => fixture.nativeElement as HTMLElement;
  const all = (testId: string) =>
    [...root().querySelectorAll(`[data-testid="${testId}"]`)] as HTMLInputElement[];
  const field = (testId: string, index = 0) => all(testId)[index];

  function type(testId: string, value: string, index = 0): void {
    const input = field(testId, index);
    input.value = value;
    input.dispatchEvent(new Event(input.tagName === 'SELECT' ? 'change' : 'input'));
  }

  async function render(id?: string): Promise<void> {
    create = vi.fn(() => of(makeEvent({ id: 12 })));
    update = vi.fn(() => of(makeEvent({ id: 3 })));
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        provideTestTranslations(),
        {
          provide: EventsApi,
          useValue: {
            create,
            update,
            get: () => of(makeEvent({ starts_at: '2026-12-31T12:00:00Z', per_customer_limit: 2 })),
          },
        },
        { provide: TicketTypesApi, useValue: {} },
      ],
    });
    vi.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
    fixture = TestBed.createComponent(EventForm);
    if (id) fixture.componentRef.setInput('id', id);
    await fixture.whenStable();
  }

  async function save(): Promise<void> {
    field('save-event').click();
    await new Promise((resolve) => setTimeout(resolve));
    await fixture.whenStable();
  }

  it('creates an event with its ticket types, its start read in its own zone', async () => {
    await render();
    type('event-name-input', 'Garden Concert');
    type('event-timezone-input', 'Asia/Bangkok');
    type('event-starts-input', '2031-05-01T19:30');
    type('event-limit-input', '4');
    type('event-checkout-input', 'payment');
    await fixture.whenStable();
    type('event-hold-input', '20');
    type('type-name-input', 'Standard');
    type('event-price-input', '600');
    field('add-type').click();
    await fixture.whenStable();
    type('type-name-input', 'VIP', 1);
    type('type-price-input', '1500', 0);
    type('type-capacity-input', '5', 1);
    await save();
    expect(create).toHaveBeenCalledTimes(1);
    const body = create.mock.calls[0][0];
    expect(body).toMatchObject({
      name: 'Garden Concert',
      timezone: 'Asia/Bangkok',
      starts_at: '2031-05-01T12:30:00.000Z',
      checkout: 'payment',
      hold_minutes: 20,
      per_customer_limit: 4,
      ticket_types: [
        { name: 'Standard', price: '600.00', capacity: null },
        { name: 'VIP', price: '1500.00', capacity: 5 },
      ],
    });
    expect(body.price).toBeUndefined();
  });

  it('refuses a time zone it does not know', async () => {
    await render();
    type('event-name-input', 'Somewhere');
    type('event-timezone-input', 'Mars/Olympus');
    type('event-starts-input', '2031-05-01T19:30');
    await save();
    expect(create).not.toHaveBeenCalled();
    expect(root().textContent).toContain('Choose a time zone from the list');
  });

  it('edits an event in its own zone and leaves its checkout and types alone', async () => {
    await render('3');
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(field('event-starts-input').value).toBe('2026-12-31T19:00');
    });
    expect(field('event-limit-input').value).toBe('2');
    expect(all('new-types')).toHaveLength(0);
    expect(all('ticket-types-editor')).toHaveLength(1);
    type('event-limit-input', '');
    await save();
    const changes = update.mock.calls[0][1];
    expect(update.mock.calls[0][0]).toBe(3);
    expect(changes).toMatchObject({
      starts_at: '2026-12-31T12:00:00.000Z',
      timezone: 'Asia/Bangkok',
      per_customer_limit: null,
    });
    expect('checkout' in changes).toBe(false);
    expect('price' in changes).toBe(false);
    expect('ticket_types' in changes).toBe(false);
  });
});
