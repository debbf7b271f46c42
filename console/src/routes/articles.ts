// Articles and comments (every signed-in user; see CONTRIBUTING.md). Paths start with /articles,
// never /community (an API group).
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: '/articles',
    name: 'articles',
    component: () => import('../pages/articles/ArticlesPage.vue'),
    meta: { title: '文章', menu: '文章', section: '社区', order: 1 },
  },
  {
    path: '/articles/new',
    name: 'article-new',
    component: () => import('../pages/articles/ArticleEditPage.vue'),
    meta: { title: '写文章' },
  },
  {
    path: '/articles/:id(\\d+)',
    name: 'article',
    component: () => import('../pages/articles/ArticlePage.vue'),
    meta: { title: '文章' },
  },
  {
    path: '/articles/:id(\\d+)/edit',
    name: 'article-edit',
    component: () => import('../pages/articles/ArticleEditPage.vue'),
    meta: { title: '修改文章' },
  },
]

export default routes
