import { TestBed } from '@angular/core/testing';
import { provideTestTranslations } from '../../testing/providers';
import { AvailabilityBadge } from './availability-badge';

describe('AvailabilityBadge', () => {
  async function text(available: number, capacity = 100): Promise<string> {
    TestBed.configureTestingModule({
      imports: [AvailabilityBadge],
      providers: [provideTestTranslations()],
    });
    const fixture = TestBed.createComponent(AvailabilityBadge);
    fixture.componentRef.setInput('event', { available, capacity });
    await fixture.whenStable();
    return (fixture.nativeElement as HTMLElement).textContent?.trim() ?? '';
  }

  it('says "sold out" when nothing is left', async () => {
    expect(await text(0)).toBe('Sold out');
  });

  it('says how many are left', async () => {
    expect(await text(42)).toBe('42 left');
  });
});
