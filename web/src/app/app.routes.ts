import { Routes } from '@angular/router';
import { adminGuard, authGuard } from './auth/auth.guards';

export const routes: Routes = [
  { path: '', pathMatch: 'full', redirectTo: 'events' },
  { path: 'events', loadComponent: () => import('./events/event-list').then((m) => m.EventList) },
  {
    path: 'events/:id',
    loadComponent: () => import('./events/event-detail').then((m) => m.EventDetail),
  },
  { path: 'sign-in', loadComponent: () => import('./auth/sign-in').then((m) => m.SignIn) },
  { path: 'sign-up', loadComponent: () => import('./auth/sign-up').then((m) => m.SignUp) },
  {
    path: 'bookings',
    canActivate: [authGuard],
    loadComponent: () => import('./booking/my-bookings').then((m) => m.MyBookings),
  },
  {
    path: 'checkout/:id',
    canActivate: [authGuard],
    loadComponent: () => import('./booking/checkout-page').then((m) => m.CheckoutPage),
  },
  {
    path: 'checkout/:id/pay',
    canActivate: [authGuard],
    loadComponent: () => import('./booking/dev-payment-page').then((m) => m.DevPaymentPage),
  },
  {
    path: 'account',
    canActivate: [authGuard],
    loadComponent: () => import('./account/account-page').then((m) => m.AccountPage),
  },
  {
    path: 'admin',
    canActivate: [adminGuard],
    loadChildren: () => import('./admin/admin.routes').then((m) => m.ADMIN_ROUTES),
  },
  { path: '**', loadComponent: () => import('./shared/not-found').then((m) => m.NotFound) },
];
