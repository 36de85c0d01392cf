import { clampQuantity, maxQuantity } from './quantity';

describe('quantity bounds', () => {
  it('is bounded by min(available, max_per_booking)', () => {
    expect(maxQuantity({ available: 100, max_per_booking: 10 })).toBe(10);
    expect(maxQuantity({ available: 3, max_per_booking: 10 })).toBe(3);
    expect(maxQuantity({ available: 0, max_per_booking: 10 })).toBe(0);
    expect(maxQuantity({ available: -1, max_per_booking: 10 })).toBe(0);
  });

  it('clamps a picked quantity to what is left', () => {
    expect(clampQuantity(5, 2)).toBe(2);
    expect(clampQuantity(1, 2)).toBe(1);
    expect(clampQuantity(0, 2)).toBe(1);
    expect(clampQuantity(3, 0)).toBe(0);
  });
});
