// What a route tells the layout and the guard (router.ts).
import type { Role } from '../stores/auth'

declare module 'vue-router' {
  interface RouteMeta {
    /** Page title (document title and heading). */
    title?: string
    /** Reachable without signing in (login). */
    public?: boolean
    /** Roles that may open it; none listed: any signed-in user. */
    roles?: Role[]
    /** Shown in the menu under this label. */
    menu?: string
    /** Menu section heading, e.g. '学习', '商城', '教学', '管理', '账户'. */
    section?: string
    /** Menu order within its section (smaller first). */
    order?: number
    /** The landing page of `roles[0]` after login (one per role). */
    home?: boolean
  }
}

export {}
