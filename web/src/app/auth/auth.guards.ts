import { inject } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import { AuthService } from './auth.service';

/** Pages for signed-in users: otherwise go to sign in, and come back afterwards. */
export const authGuard: CanActivateFn = (_route, state) => {
  const auth = inject(AuthService);
  if (auth.hasValidSession()) return true;
  const expired = auth.isSignedIn();
  auth.forget();
  return inject(Router).createUrlTree(['/sign-in'], {
    queryParams: expired ? { returnUrl: state.url, expired: 1 } : { returnUrl: state.url },
  });
};

/** Admin pages: signed-in admins only; customers go back to the events. */
export const adminGuard: CanActivateFn = (route, state) => {
  const auth = inject(AuthService);
  if (auth.hasValidSession() && auth.isAdmin()) return true;
  if (auth.hasValidSession()) return inject(Router).createUrlTree(['/events']);
  return authGuard(route, state);
};
