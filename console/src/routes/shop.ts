// shop pages (see CONTRIBUTING.md): add records here only; router.ts merges every route file.
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = []

export default routes
