// Merges one route file per role (routes/*.ts, each owned by its pages) and guards them:
// not signed in -> /login?next=..., a role's page for another role -> home, `/` -> the role's home.
import { createRouter, createWebHistory, type RouteLocationNormalized, type RouteRecordRaw } from 'vue-router'
import './routes/meta'
import articles from './routes/articles'
import common from './routes/common'
import operator from './routes/operator'
import shop from './routes/shop'
import student from './routes/student'
import teacher from './routes/teacher'
import { auth, type Role } from './stores/auth'

const notFound: RouteRecordRaw = {
  path: '/:missing(.*)*',
  name: 'not-found',
  component: () => import('./pages/common/NotFoundPage.vue'),
  meta: { title: '页面不存在', public: true },
}

export const router = createRouter({
  history: createWebHistory('/'),
  routes: [...common, ...student, ...articles, ...shop, ...teacher, ...operator, notFound],
  scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
})

export function allowed(roles: Role[] | undefined): boolean {
  return !roles || roles.length === 0 || roles.some((role) => auth.roles.value.includes(role))
}

/** The landing page of the user's main role (a route marked `home`), else the dashboard `/`. */
export function homePath(): string {
  const role = auth.mainRole.value
  const home = router.getRoutes().find((r) => r.meta.home && role && r.meta.roles?.[0] === role)
  return home?.path ?? '/'
}

router.beforeEach(async (to: RouteLocationNormalized) => {
  if (auth.signedIn.value) {
    try {
      await auth.ready()
    } catch {
      // not a 401 (that one signs out): the layout shows the error and a retry
    }
  }
  if (to.meta.public) {
    return to.name === 'login' && auth.signedIn.value ? homePath() : true
  }
  if (!auth.signedIn.value) {
    return { name: 'login', query: to.fullPath === '/' ? {} : { next: to.fullPath } }
  }
  if (to.name === 'home' && homePath() !== '/') return homePath()
  if (!allowed(to.meta.roles)) return homePath()
  return true
})

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · StudyHub` : 'StudyHub 学习平台'
})
