// Articles and comments (every signed-in user; see CONTRIBUTING.md). Paths start with /articles,
// never /community (an API group).
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = []

export default routes
