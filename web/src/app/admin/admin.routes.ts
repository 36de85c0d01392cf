import { Routes } from '@angular/router';

export const ADMIN_ROUTES: Routes = [
  { path: '', loadComponent: () => import('./admin-events').then((m) => m.AdminEvents) },
  { path: 'events/new', loadComponent: () => import('./event-form').then((m) => m.EventForm) },
  { path: 'events/:id/edit', loadComponent: () => import('./event-form').then((m) => m.EventForm) },
  {
    path: 'events/:id/sales',
    loadComponent: () => import('./event-sales').then((m) => m.EventSales),
  },
  { path: 'check-in', loadComponent: () => import('./check-in').then((m) => m.CheckIn) },
];
