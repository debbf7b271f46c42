// teacher pages (see CONTRIBUTING.md): add records here only; router.ts merges every route file.
// Under /teacher/…: no path may begin with an API group (users, school, work, …). Teacher+ routes
// (API.md): a superuser may open them too.
import type { RouteRecordRaw } from 'vue-router'

const TEACHER = { roles: ['teacher', 'operator'] as ('teacher' | 'operator')[], section: '教学' }

const routes: RouteRecordRaw[] = [
  {
    path: '/teacher/classes',
    name: 'teach-classes',
    component: () => import('../pages/teacher/ClassesPage.vue'),
    meta: { ...TEACHER, title: '班级与学生', menu: '班级与学生', order: 1, home: true },
  },
  {
    path: '/teacher/classes/:id(\\d+)',
    name: 'teach-class',
    component: () => import('../pages/teacher/ClassPage.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { ...TEACHER, title: '班级' },
  },
  {
    path: '/teacher/labels',
    name: 'teach-labels',
    component: () => import('../pages/teacher/LabelsPage.vue'),
    meta: { ...TEACHER, title: '标签', menu: '题库标签', order: 2 },
  },
  {
    path: '/teacher/topics',
    name: 'teach-topics',
    component: () => import('../pages/teacher/TopicsPage.vue'),
    meta: { ...TEACHER, title: '题库', menu: '题库', order: 3 },
  },
  {
    path: '/teacher/topics/new',
    name: 'teach-topic-new',
    component: () => import('../pages/teacher/TopicEditPage.vue'),
    props: { id: null },
    meta: { ...TEACHER, title: '新建题目' },
  },
  {
    path: '/teacher/topics/:id(\\d+)',
    name: 'teach-topic',
    component: () => import('../pages/teacher/TopicEditPage.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { ...TEACHER, title: '编辑题目' },
  },
  {
    path: '/teacher/papers',
    name: 'teach-papers',
    component: () => import('../pages/teacher/PapersPage.vue'),
    meta: { ...TEACHER, title: '试卷', menu: '试卷', order: 4 },
  },
  {
    path: '/teacher/papers/new',
    name: 'teach-paper-new',
    component: () => import('../pages/teacher/PaperEditPage.vue'),
    props: { id: null },
    meta: { ...TEACHER, title: '新建试卷' },
  },
  {
    path: '/teacher/papers/:id(\\d+)',
    name: 'teach-paper',
    component: () => import('../pages/teacher/PaperEditPage.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { ...TEACHER, title: '编辑试卷' },
  },
  {
    path: '/teacher/assignments',
    name: 'teach-assignments',
    component: () => import('../pages/teacher/AssignmentsPage.vue'),
    meta: { ...TEACHER, title: '作业与考试', menu: '作业与考试', order: 5 },
  },
  {
    path: '/teacher/assignments/:id(\\d+)',
    name: 'teach-assignment',
    component: () => import('../pages/teacher/AssignmentPage.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { ...TEACHER, title: '批改与统计' },
  },
  {
    path: '/teacher/submissions/:id(\\d+)',
    name: 'teach-submission',
    component: () => import('../pages/teacher/SubmissionPage.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { ...TEACHER, title: '批改' },
  },
]

export default routes
