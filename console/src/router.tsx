import type { QueryClient } from '@tanstack/react-query';
import { createRootRouteWithContext, createRoute, createRouter } from '@tanstack/react-router';

import { Layout } from './layout';
import { AuditScreen, auditSearch } from './screens/audit';
import { CatalogScreen } from './screens/catalog';
import { EmailsScreen, emailsSearch } from './screens/emails';
import { EventsScreen } from './screens/events';
import { ExportsScreen } from './screens/exports';
import { FeaturesScreen } from './screens/features';
import { FinanceScreen } from './screens/finance';
import { OrgScreen } from './screens/org';
import { OrgsScreen, orgsSearch } from './screens/orgs';
import { OverviewScreen } from './screens/overview';
import { PackagesScreen } from './screens/packages';
import { PlansScreen } from './screens/plans';
import { PricingScreen } from './screens/pricing';
import { PromotionsScreen } from './screens/promotions';
import { ReviewScreen } from './screens/review';
import { UserScreen } from './screens/user';
import { UsersScreen, usersSearch } from './screens/users';
import { WebhooksScreen } from './screens/webhooks';

const root = createRootRouteWithContext<{ queryClient: QueryClient }>()({ component: Layout });

export const routes = {
  overview: createRoute({ getParentRoute: () => root, path: '/', component: OverviewScreen }),
  users: createRoute({
    getParentRoute: () => root,
    path: '/users',
    validateSearch: usersSearch,
    component: UsersScreen,
  }),
  user: createRoute({ getParentRoute: () => root, path: '/users/$userId', component: UserScreen }),
  orgs: createRoute({
    getParentRoute: () => root,
    path: '/orgs',
    validateSearch: orgsSearch,
    component: OrgsScreen,
  }),
  org: createRoute({ getParentRoute: () => root, path: '/orgs/$orgId', component: OrgScreen }),
  review: createRoute({ getParentRoute: () => root, path: '/review', component: ReviewScreen }),
  pricing: createRoute({ getParentRoute: () => root, path: '/pricing', component: PricingScreen }),
  catalog: createRoute({ getParentRoute: () => root, path: '/catalog', component: CatalogScreen }),
  plans: createRoute({ getParentRoute: () => root, path: '/plans', component: PlansScreen }),
  features: createRoute({ getParentRoute: () => root, path: '/features', component: FeaturesScreen }),
  packages: createRoute({ getParentRoute: () => root, path: '/packages', component: PackagesScreen }),
  promotions: createRoute({ getParentRoute: () => root, path: '/promotions', component: PromotionsScreen }),
  webhooks: createRoute({ getParentRoute: () => root, path: '/webhooks', component: WebhooksScreen }),
  events: createRoute({ getParentRoute: () => root, path: '/events', component: EventsScreen }),
  finance: createRoute({ getParentRoute: () => root, path: '/finance', component: FinanceScreen }),
  exports: createRoute({ getParentRoute: () => root, path: '/exports', component: ExportsScreen }),
  emails: createRoute({
    getParentRoute: () => root,
    path: '/emails',
    validateSearch: emailsSearch,
    component: EmailsScreen,
  }),
  audit: createRoute({
    getParentRoute: () => root,
    path: '/audit',
    validateSearch: auditSearch,
    component: AuditScreen,
  }),
};

export const router = createRouter({
  routeTree: root.addChildren(Object.values(routes)),
  basepath: '/admin',
  context: { queryClient: undefined! },
  defaultPreload: false,
});

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
