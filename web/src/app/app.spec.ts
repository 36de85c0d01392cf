import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Router } from '@angular/router';
import { App } from './app';
import { appConfig } from './app.config';
import { LanguageService } from './i18n/language.service';

/** Boots the shell with the real application providers (translations, router, interceptors). */
describe('App', () => {
  const q = (root: HTMLElement, testId: string) => root.querySelector(`[data-testid="${testId}"]`);

  beforeEach(() => {
    sessionStorage.clear();
    localStorage.clear();
    TestBed.configureTestingModule({
      providers: [...appConfig.providers, provideHttpClientTesting()],
    });
  });

  it('shows sign-in links and no admin link to a visitor', async () => {
    const fixture = TestBed.createComponent(App);
    await fixture.whenStable();
    const root = fixture.nativeElement as HTMLElement;
    expect(q(root, 'nav-sign-in')?.textContent).toContain('Sign in');
    expect(q(root, 'nav-admin')).toBeNull();
  });

  it('shows the admin link to an admin', async () => {
    sessionStorage.setItem(
      'ticketing.session',
      JSON.stringify({
        token: 't',
        expiresAt: Date.now() + 60_000,
        user: { id: 1, email: 'a@b.c', name: 'Ann', role: 'admin' },
      }),
    );
    const fixture = TestBed.createComponent(App);
    await fixture.whenStable();
    const root = fixture.nativeElement as HTMLElement;
    expect(q(root, 'nav-admin')).not.toBeNull();
    expect(q(root, 'current-user')?.textContent).toBe('Ann');
  });

  it('switches between English and Thai', async () => {
    const fixture = TestBed.createComponent(App);
    TestBed.inject(LanguageService).init();
    await fixture.whenStable();
    const root = fixture.nativeElement as HTMLElement;
    (q(root, 'lang-th') as HTMLButtonElement).click();
    await fixture.whenStable();
    expect(q(root, 'nav-events')?.textContent).toBe('งานทั้งหมด');
    expect(document.documentElement.lang).toBe('th');
    expect(localStorage.getItem('ticketing.lang')).toBe('th');
    (q(root, 'lang-en') as HTMLButtonElement).click();
    await fixture.whenStable();
    expect(q(root, 'nav-events')?.textContent).toBe('Events');
  });

  it('"Sign out" revokes the token at the service and signs out here', async () => {
    sessionStorage.setItem(
      'ticketing.session',
      JSON.stringify({
        token: 'tok-9',
        expiresAt: Date.now() + 60_000,
        user: { id: 9, email: 'n@b.c', name: 'Nok', role: 'customer' },
      }),
    );
    const navigate = vi.spyOn(TestBed.inject(Router), 'navigateByUrl').mockResolvedValue(true);
    const fixture = TestBed.createComponent(App);
    await fixture.whenStable();
    const root = fixture.nativeElement as HTMLElement;
    expect(q(root, 'nav-account')?.getAttribute('href')).toBe('/account');

    (q(root, 'sign-out') as HTMLButtonElement).click();
    const request = TestBed.inject(HttpTestingController).expectOne('/api/v1/auth/logout');
    expect(request.request.method).toBe('POST');
    expect(request.request.headers.get('Authorization')).toBe('Bearer tok-9');
    request.flush(null, { status: 204, statusText: 'No Content' });
    await fixture.whenStable();

    expect(q(root, 'nav-sign-in')).not.toBeNull();
    expect(q(root, 'nav-account')).toBeNull();
    expect(sessionStorage.getItem('ticketing.session')).toBeNull();
    expect(navigate).toHaveBeenCalledWith('/events');
  });
});
