// Pages every signed-in user has (and the login page). Paths must not begin with an API group
// (users, school, work, community, shopping, media, health, docs, openapi.json, api): the front
// door sends those to the functions (tests/unit/test_console_routes.py checks every route file).
import type { RouteRecordRaw } from 'vue-router'
// the first page anyone sees travels in the entry chunk: one round trip less on a slow network
import LoginPage from '../pages/common/LoginPage.vue'

const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: LoginPage,
    meta: { title: '登录', public: true },
  },
  {
    path: '/',
    name: 'home',
    component: () => import('../pages/common/HomePage.vue'),
    meta: { title: '首页' },
  },
  {
    path: '/profile',
    name: 'profile',
    component: () => import('../pages/common/ProfilePage.vue'),
    meta: { title: '个人资料', menu: '个人资料', section: '账户', order: 1 },
  },
  {
    path: '/addresses',
    name: 'addresses',
    component: () => import('../pages/common/AddressesPage.vue'),
    meta: { title: '收货地址', menu: '收货地址', section: '账户', order: 2 },
  },
]

export default routes
