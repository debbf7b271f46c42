// student pages (see CONTRIBUTING.md): add records here only; router.ts merges every route file.
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: '/student/classes',
    name: 'student-classes',
    component: () => import('../pages/student/ClassesPage.vue'),
    meta: { title: '我的班级', roles: ['student'], menu: '我的班级', section: '学习', order: 1 },
  },
  {
    path: '/student/assignments',
    name: 'student-assignments',
    component: () => import('../pages/student/AssignmentsPage.vue'),
    meta: { title: '我的作业', roles: ['student'], menu: '我的作业', section: '学习', order: 2, home: true },
  },
  {
    path: '/student/assignments/:id(\\d+)',
    name: 'student-take',
    component: () => import('../pages/student/TakePage.vue'),
    meta: { title: '作答', roles: ['student'] },
  },
  {
    path: '/student/submissions/:id(\\d+)',
    name: 'student-submission',
    component: () => import('../pages/student/SubmissionPage.vue'),
    meta: { title: '成绩', roles: ['student'] },
  },
  {
    path: '/student/mistakes',
    name: 'student-mistakes',
    component: () => import('../pages/student/MistakesPage.vue'),
    meta: { title: '错题本', roles: ['student'], menu: '错题本', section: '学习', order: 3 },
  },
  {
    path: '/student/practice',
    name: 'student-practice',
    component: () => import('../pages/student/PracticePage.vue'),
    meta: { title: '今日练习', roles: ['student'], menu: '今日练习', section: '学习', order: 4 },
  },
]

export default routes
