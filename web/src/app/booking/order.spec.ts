import { makeEvent, ticketType } from '../../testing/fixtures';
import { afterBooking, clampPicks, toItems, totalMinor, typeMax } from './order';
import { maxQuantity } from './quantity';

const standard = ticketType({ id: 1, name: 'Standard', price: '500.00', available: 6 });
const vip = ticketType({ id: 2, name: 'VIP', price: '2000.00', capacity: 2, available: 2 });
const gone = ticketType({ id: 3, name: 'Early bird', price: '300.00', capacity: 4, available: 0 });
const event = makeEvent({
  available: 6,
  max_per_booking: 5,
  ticket_types: [standard, vip, gone],
});

describe('per-type quantity bounds', () => {
  it('bounds a type by what is left of it', () => {
    expect(typeMax(event, new Map(), vip)).toBe(2);
    expect(typeMax(event, new Map(), gone)).toBe(0);
  });

  it('bounds a type by max_per_booking over the total of the other picks', () => {
    expect(typeMax(event, new Map(), standard)).toBe(5);
    expect(typeMax(event, new Map([[2, 2]]), standard)).toBe(3);
    // its own pick does not count against itself
    expect(typeMax(event, new Map([[1, 4]]), standard)).toBe(5);
  });

  it('bounds the total by the per-customer limit and the event’s available', () => {
    expect(maxQuantity({ ...event, my_remaining: 3 })).toBe(3);
    expect(maxQuantity({ ...event, my_remaining: null })).toBe(5);
    expect(maxQuantity({ ...event, my_remaining: 0 })).toBe(0);
    expect(typeMax({ ...event, my_remaining: 3 }, new Map([[2, 1]]), standard)).toBe(2);
    expect(typeMax({ ...event, available: 1 }, new Map(), vip)).toBe(1);
  });

  it('clamps picks to what is left after a refresh, earlier types first', () => {
    const refreshed = {
      ...event,
      available: 3,
      ticket_types: [{ ...standard, available: 3 }, { ...vip, available: 1 }, gone],
    };
    expect(
      clampPicks(
        refreshed,
        new Map([
          [1, 3],
          [2, 2],
          [3, 1],
        ]),
      ),
    ).toEqual(
      new Map([
        [1, 3],
        [2, 0],
        [3, 0],
      ]),
    );
    expect(clampPicks(refreshed, new Map([[2, 2]]))).toEqual(
      new Map([
        [1, 0],
        [2, 1],
        [3, 0],
      ]),
    );
  });

  it('drops types the event no longer has, and never goes below 0', () => {
    expect(clampPicks(event, new Map([[99, 2]]))).toEqual(
      new Map([
        [1, 0],
        [2, 0],
        [3, 0],
      ]),
    );
    expect(clampPicks(event, new Map([[1, -4]])).get(1)).toBe(0);
  });

  it('sends the picked types in order, and prices them exactly', () => {
    const picks = new Map([
      [2, 1],
      [1, 2],
      [3, 0],
    ]);
    expect(toItems(event, picks)).toEqual([
      { ticket_type_id: 1, quantity: 2 },
      { ticket_type_id: 2, quantity: 1 },
    ]);
    expect(totalMinor(event, picks)).toBe(300000);
  });

  it('counts a hold as held and a sale as sold', () => {
    const items = [{ ticket_type_id: 2, quantity: 2 }];
    const held = afterBooking({ ...event, my_remaining: 4 }, items, true);
    expect(held).toMatchObject({ available: 4, tickets_held: 2, tickets_sold: 2, my_remaining: 2 });
    expect(held.ticket_types[1]).toMatchObject({ tickets_held: 2, available: 0 });
    expect(held.ticket_types[0].available).toBe(4);
    const sold = afterBooking(event, items, false);
    expect(sold).toMatchObject({ tickets_sold: 4, tickets_held: 0, my_remaining: null });
  });
});
