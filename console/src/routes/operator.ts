// operator pages (see CONTRIBUTING.md): add records here only; router.ts merges every route file.
// Under /operator/…: no path may begin with an API group (users, school, work, shopping, …).
import type { RouteRecordRaw } from 'vue-router'

const OPERATOR = { roles: ['operator'] as 'operator'[], section: '管理' }

const routes: RouteRecordRaw[] = [
  {
    path: '/operator/users',
    name: 'admin-users',
    component: () => import('../pages/operator/UsersPage.vue'),
    meta: { ...OPERATOR, title: '用户管理', menu: '用户', order: 1, home: true },
  },
  {
    path: '/operator/commodities',
    name: 'admin-commodities',
    component: () => import('../pages/operator/CommoditiesPage.vue'),
    meta: { ...OPERATOR, title: '商品管理', menu: '商品', order: 2 },
  },
  {
    path: '/operator/orders',
    name: 'admin-orders',
    component: () => import('../pages/operator/OrdersPage.vue'),
    meta: { ...OPERATOR, title: '订单管理', menu: '订单', order: 3 },
  },
  {
    path: '/operator/payments',
    name: 'admin-payments',
    component: () => import('../pages/operator/PaymentsPage.vue'),
    meta: { ...OPERATOR, title: '待退款支付', menu: '待退款', order: 4 },
  },
  {
    path: '/operator/health',
    name: 'admin-health',
    component: () => import('../pages/operator/HealthPage.vue'),
    meta: { ...OPERATOR, title: '服务健康', menu: '服务健康', order: 5 },
  },
]

export default routes
