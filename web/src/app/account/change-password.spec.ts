import { HttpHeaders, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { TranslateService } from '@ngx-translate/core';
import { provideTestTranslations } from '../../testing/providers';
import { authInterceptor } from '../auth/auth.interceptor';
import { AuthService } from '../auth/auth.service';
import { ChangePassword } from './change-password';

const URL = '/api/v1/users/me/password';

/** The page with the real API wrapper, interceptor and session; only the network is faked. */
describe('ChangePassword', () => {
  let backend: HttpTestingController;
  let navigate: ReturnType<typeof vi.spyOn>;
  let page: ComponentFixture<ChangePassword>;

  beforeEach(async () => {
    sessionStorage.clear();
    sessionStorage.setItem(
      'ticketing.session',
      JSON.stringify({
        token: 'tok-1',
        expiresAt: Date.now() + 60_000,
        user: { id: 7, email: 'nok@example.com', name: 'Nok', role: 'customer' },
      }),
    );
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        provideHttpClient(withInterceptors([authInterceptor])),
        provideHttpClientTesting(),
        provideTestTranslations(),
      ],
    });
    backend = TestBed.inject(HttpTestingController);
    const router = TestBed.inject(Router);
    navigate = vi.spyOn(router, 'navigate').mockResolvedValue(true);
    page = TestBed.createComponent(ChangePassword);
    await page.whenStable();
  });

  afterEach(() => backend.verify());

  const q = <T extends HTMLElement = HTMLElement>(testId: string) =>
    (page.nativeElement as HTMLElement).querySelector<T>(`[data-testid="${testId}"]`);
  const text = (testId: string) => q(testId)?.textContent?.trim();
  /** The refusal's message, once the page shows it (the answer reaches it a few ticks later). */
  async function shownError(): Promise<string | undefined> {
    await vi.waitFor(async () => {
      await page.whenStable();
      expect(q('change-password-error')).not.toBeNull();
    });
    return text('change-password-error');
  }

  async function fillAndSubmit(current: string, password: string, confirm = password) {
    for (const [testId, value] of [
      ['current-password', current],
      ['new-password', password],
      ['confirm-password', confirm],
    ]) {
      const input = q<HTMLInputElement>(testId)!;
      input.value = value;
      input.dispatchEvent(new Event('input'));
    }
    q<HTMLButtonElement>('change-password-submit')!.click();
    await page.whenStable();
  }

  async function answer(status: number, body: object | null, headers: Record<string, string> = {}) {
    const request = backend.expectOne({ method: 'POST', url: URL });
    request.flush(body, { status, statusText: String(status), headers: new HttpHeaders(headers) });
    await page.whenStable();
    return request.request;
  }

  it('sends both passwords; on 204 forgets the session and sends the user to sign in', async () => {
    await fillAndSubmit('old password', 'new password 1');
    const request = await answer(204, null);

    expect(request.body).toEqual({
      current_password: 'old password',
      new_password: 'new password 1',
    });
    expect(request.headers.get('Authorization')).toBe('Bearer tok-1');
    await vi.waitFor(() =>
      expect(navigate).toHaveBeenCalledWith(['/sign-in'], {
        queryParams: { notice: 'password-changed' },
      }),
    );
    expect(TestBed.inject(AuthService).isSignedIn()).toBe(false);
  });

  it('says the current password is wrong on 401 invalid_credentials, still signed in', async () => {
    await fillAndSubmit('wrong', 'new password 1');
    await answer(401, { detail: 'Incorrect password.', code: 'invalid_credentials' });

    expect(await shownError()).toBe('The current password is wrong.');
    expect(TestBed.inject(AuthService).isSignedIn()).toBe(true);
    expect(navigate).not.toHaveBeenCalled();
    expect(q<HTMLButtonElement>('change-password-submit')?.disabled).toBe(false);
  });

  it("shows the service's own message on 422", async () => {
    await fillAndSubmit('old password', 'password1');
    await answer(422, { detail: 'This password is too common.', code: 'validation_error' });

    expect(await shownError()).toBe('This password is too common.');
    expect(navigate).not.toHaveBeenCalled();
  });

  it("shows the service's own message on 422 in Thai too", async () => {
    TestBed.inject(TranslateService).use('th');
    await fillAndSubmit('old password', 'password1');
    await answer(422, { detail: 'This password is too common.', code: 'validation_error' });

    expect(await shownError()).toBe('This password is too common.');
    // the page really is in Thai (so the message above was not translated away)
    expect(text('change-password-submit')).toBe('เปลี่ยนรหัสผ่าน');
  });

  it('says when to try again on 429, from Retry-After', async () => {
    await fillAndSubmit('old password', 'new password 1');
    await answer(
      429,
      { detail: 'Too many attempts.', code: 'too_many_requests' },
      { 'Retry-After': '42' },
    );

    expect(await shownError()).toBe('Too many attempts. Try again in 42 seconds.');
  });

  it('says to try again later on 429 without Retry-After', async () => {
    await fillAndSubmit('old password', 'new password 1');
    await answer(429, { detail: 'Too many attempts.', code: 'too_many_requests' });

    expect(await shownError()).toBe('Too many attempts. Try again later.');
  });

  it('a revoked session (401 not_authenticated) ends it and goes to sign in', async () => {
    await fillAndSubmit('old password', 'new password 1');
    await answer(401, { detail: 'Not authenticated.', code: 'not_authenticated' });

    expect(TestBed.inject(AuthService).isSignedIn()).toBe(false);
    expect(navigate).toHaveBeenCalledWith(['/sign-in'], {
      queryParams: { returnUrl: '/', expired: 1 },
    });
  });

  it('sends nothing for a short new password or a confirmation that differs', async () => {
    await fillAndSubmit('old password', 'short');
    expect(q('new-password-rule')?.classList).toContain('field-error');

    await fillAndSubmit('old password', 'new password 1', 'new password 2');
    expect(text('passwords-differ')).toBe('The two new passwords do not match.');
    expect(q('confirm-password')?.getAttribute('aria-invalid')).toBe('true');

    await fillAndSubmit('old password', 'x'.repeat(129));
    expect(q('new-password-rule')?.classList).toContain('field-error');

    backend.expectNone(URL);
  });
});
