import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { provideTestTranslations } from '../../testing/providers';
import { authInterceptor } from '../auth/auth.interceptor';
import { AuthService } from '../auth/auth.service';
import { SignOutEverywhere } from './sign-out-everywhere';

const URL = '/api/v1/users/me/sign-out-everywhere';

describe('SignOutEverywhere', () => {
  let backend: HttpTestingController;
  let navigate: ReturnType<typeof vi.spyOn>;
  let page: ComponentFixture<SignOutEverywhere>;

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
    navigate = vi.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
    page = TestBed.createComponent(SignOutEverywhere);
    document.body.appendChild(page.nativeElement as HTMLElement);
    await page.whenStable();
  });

  afterEach(() => {
    (page.nativeElement as HTMLElement).remove();
    backend.verify();
  });

  const q = (testId: string) =>
    (page.nativeElement as HTMLElement).querySelector<HTMLButtonElement>(
      `[data-testid="${testId}"]`,
    );
  async function click(testId: string): Promise<void> {
    q(testId)!.click();
    await page.whenStable();
  }

  it('asks first; "Cancel" sends nothing and puts the focus back', async () => {
    await click('sign-out-everywhere');
    expect(page.nativeElement.textContent).toContain('Sign out on every device, this one too?');
    expect(document.activeElement).toBe(q('keep-signed-in'));

    await click('keep-signed-in');
    expect(q('confirm-sign-out-everywhere')).toBeNull();
    expect(document.activeElement).toBe(q('sign-out-everywhere'));
    backend.expectNone(URL);
  });

  it('Escape closes the question', async () => {
    await click('sign-out-everywhere');
    q('keep-signed-in')!.dispatchEvent(
      new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }),
    );
    await page.whenStable();
    expect(q('confirm-sign-out-everywhere')).toBeNull();
  });

  it('on confirmation revokes every token, forgets the session and goes to sign in', async () => {
    await click('sign-out-everywhere');
    await click('confirm-sign-out-everywhere');
    const request = backend.expectOne({ method: 'POST', url: URL });
    expect(request.request.headers.get('Authorization')).toBe('Bearer tok-1');
    request.flush(null, { status: 204, statusText: 'No Content' });
    await page.whenStable();

    await vi.waitFor(() =>
      expect(navigate).toHaveBeenCalledWith(['/sign-in'], {
        queryParams: { notice: 'signed-out-everywhere' },
      }),
    );
    expect(TestBed.inject(AuthService).isSignedIn()).toBe(false);
  });

  it('stays signed in and says so when the service cannot be reached', async () => {
    await click('sign-out-everywhere');
    await click('confirm-sign-out-everywhere');
    backend.expectOne(URL).error(new ProgressEvent('error'));
    await vi.waitFor(async () => {
      await page.whenStable();
      expect(q('sign-out-everywhere-error')).not.toBeNull();
    });

    expect(q('sign-out-everywhere-error')?.textContent).toContain(
      'The service could not be reached.',
    );
    expect(TestBed.inject(AuthService).isSignedIn()).toBe(true);
    expect(navigate).not.toHaveBeenCalled();
    expect(q('sign-out-everywhere')?.disabled).toBe(false);
  });
});
