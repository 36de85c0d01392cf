import { HttpErrorResponse, HttpHeaders } from '@angular/common/http';
import { Type } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { provideTestTranslations } from '../../testing/providers';
import { LanguageService } from '../i18n/language.service';
import { AuthService } from './auth.service';
import { SignIn } from './sign-in';
import { SignUp } from './sign-up';

describe('sign-in and sign-up (the shared auth form)', () => {
  let signIn: ReturnType<typeof vi.fn>;
  let register: ReturnType<typeof vi.fn>;
  let navigate: ReturnType<typeof vi.spyOn>;

  beforeEach(() => {
    signIn = vi.fn(() => Promise.resolve({ id: 1 }));
    register = vi.fn(() => Promise.resolve({ id: 1 }));
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        provideTestTranslations(),
        { provide: AuthService, useValue: { signIn, register } },
      ],
    });
    navigate = vi.spyOn(TestBed.inject(Router), 'navigateByUrl').mockResolvedValue(true);
  });

  async function render<T>(page: Type<T>, inputs: Record<string, string> = {}) {
    const fixture = TestBed.createComponent(page);
    for (const [name, value] of Object.entries(inputs)) fixture.componentRef.setInput(name, value);
    await fixture.whenStable();
    return fixture;
  }
  const q = (fixture: ComponentFixture<unknown>, testId: string) =>
    (fixture.nativeElement as HTMLElement).querySelector<HTMLInputElement>(
      `[data-testid="${testId}"]`,
    );
  function fill(fixture: ComponentFixture<unknown>, values: Record<string, string>): void {
    for (const [testId, value] of Object.entries(values)) {
      const field = q(fixture, testId)!;
      field.value = value;
      field.dispatchEvent(new Event('input'));
    }
  }
  async function submit(fixture: ComponentFixture<unknown>): Promise<void> {
    q(fixture, 'submit')!.click();
    await fixture.whenStable();
  }

  it('signs in, then goes back to where the user was headed', async () => {
    const page = await render(SignIn, { returnUrl: '/bookings' });
    const text = (page.nativeElement as HTMLElement).textContent ?? '';
    expect(text).toContain('Sign in');
    expect(text).toContain('No account yet?');
    expect(q(page, 'password')?.getAttribute('autocomplete')).toBe('current-password');
    expect(q(page, 'name')).toBeNull();
    expect(q(page, 'session-expired')).toBeNull();

    fill(page, { email: 'a@example.com', password: 'secret' });
    await submit(page);

    expect(signIn).toHaveBeenCalledWith('a@example.com', 'secret');
    expect(navigate).toHaveBeenCalledWith('/bookings');
  });

  it('shows the API error and lets the user try again', async () => {
    signIn.mockRejectedValueOnce(
      new HttpErrorResponse({
        status: 401,
        error: { detail: 'Incorrect email or password.', code: 'no_such_code_here' },
      }),
    );
    const page = await render(SignIn, { expired: '1' });
    expect(q(page, 'session-expired')).not.toBeNull();

    fill(page, { email: 'a@example.com', password: 'wrong' });
    await submit(page);

    expect(q(page, 'auth-error')?.textContent).toContain('Incorrect email or password.');
    expect(q(page, 'submit')?.disabled).toBe(false);
    expect(navigate).not.toHaveBeenCalled();
  });

  it('sends nothing while the form is invalid and says the password rule', async () => {
    const page = await render(SignUp);
    expect((page.nativeElement as HTMLElement).textContent).toContain('Already have an account?');
    expect(q(page, 'password')?.getAttribute('autocomplete')).toBe('new-password');

    fill(page, { name: 'Nok', email: 'nok@example.com', password: 'short' });
    await submit(page);

    expect(register).not.toHaveBeenCalled();
    expect(page.nativeElement.querySelector('.field-error')?.textContent).toContain(
      'At least 8 characters.',
    );
  });

  it('signs up with name, email, password and the language the page is in', async () => {
    const page = await render(SignUp);
    fill(page, { name: 'Nok', email: 'nok@example.com', password: 'long enough' });
    await submit(page);

    expect(register).toHaveBeenCalledWith('nok@example.com', 'long enough', 'Nok', TestBed.inject(LanguageService).current());
    expect(navigate).toHaveBeenCalledWith('/events');
  });

  it('says why the user must sign in again after a password change or signing out everywhere', async () => {
    const changed = await render(SignIn, { notice: 'password-changed' });
    expect(q(changed, 'sign-in-notice')?.textContent).toContain(
      'Please sign in with your new password.',
    );
    const everywhere = await render(SignIn, { notice: 'signed-out-everywhere' });
    expect(q(everywhere, 'sign-in-notice')?.textContent).toContain(
      'You were signed out on every device.',
    );
    const unknown = await render(SignIn, { notice: 'toString' });
    expect(q(unknown, 'sign-in-notice')).toBeNull();
  });

  it('says when to try again when sign-ins from this address are throttled (429)', async () => {
    signIn.mockRejectedValueOnce(
      new HttpErrorResponse({
        status: 429,
        headers: new HttpHeaders({ 'Retry-After': '30' }),
        error: { detail: 'Too many sign-in attempts.', code: 'too_many_requests' },
      }),
    );
    const page = await render(SignIn);
    fill(page, { email: 'a@example.com', password: 'secret' });
    await submit(page);

    expect(q(page, 'auth-error')?.textContent).toContain(
      'Too many attempts. Try again in 30 seconds.',
    );
  });
});
