// Who is signed in: the token (kept in localStorage so a refresh stays signed in), the user it
// belongs to (GET /users/users/{id}, the id from the token's `sub`), and the roles the menus
// follow: operator = is_superuser, teacher = group 1, student = group 2 (API.md, Conventions).
import { computed, reactive } from 'vue'
import { api, ok, setToken, type Schemas } from '../api/client'

export type Role = 'student' | 'teacher' | 'operator'
export type User = Schemas['UserPublic']

export const ROLE_NAMES: Record<Role, string> = { student: '学生', teacher: '老师', operator: '管理员' }
const TEACHER_GROUP = 1
const STUDENT_GROUP = 2
const STORAGE_KEY = 'studyhub.token'

const state = reactive<{ token: string | null; user: User | null; loading: Promise<void> | null; error: unknown }>({
  token: null,
  user: null,
  loading: null,
  error: null,
})

function claims(token: string): { sub?: string; exp?: number } | null {
  try {
    const part = token.split('.')[1] ?? ''
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='))
    return JSON.parse(json) as { sub?: string; exp?: number }
  } catch {
    return null
  }
}

function store(token: string | null): void {
  state.token = token
  setToken(token)
  try {
    if (token) localStorage.setItem(STORAGE_KEY, token)
    else localStorage.removeItem(STORAGE_KEY)
  } catch {
    // private mode without storage: the session lasts until the tab closes
  }
}

function restore(): void {
  let saved: string | null = null
  try {
    saved = localStorage.getItem(STORAGE_KEY)
  } catch {
    saved = null
  }
  const payload = saved ? claims(saved) : null
  // an expired token would only earn a 401: start at the login page instead
  if (saved && payload?.sub && (!payload.exp || payload.exp * 1000 > Date.now())) store(saved)
  else store(null)
}

export function rolesOf(user: User | null): Role[] {
  if (!user) return []
  const roles: Role[] = []
  if (user.groups.includes(STUDENT_GROUP)) roles.push('student')
  if (user.groups.includes(TEACHER_GROUP)) roles.push('teacher')
  if (user.is_superuser) roles.push('operator')
  return roles
}

async function loadUser(): Promise<void> {
  const id = Number(claims(state.token ?? '')?.sub)
  if (!id) {
    store(null)
    return
  }
  try {
    state.error = null
    state.user = await ok(api.GET('/users/users/{id}', { params: { path: { id } } }))
  } catch (error) {
    state.user = null
    state.error = error
    throw error
  } finally {
    state.loading = null
  }
}

export const auth = {
  state,
  signedIn: computed(() => state.token !== null),
  user: computed(() => state.user),
  roles: computed(() => rolesOf(state.user)),
  /** The role whose pages open first: operator, then teacher, then student. */
  mainRole: computed<Role | null>(() => {
    const roles = rolesOf(state.user)
    return roles.includes('operator') ? 'operator' : roles.includes('teacher') ? 'teacher' : (roles[0] ?? null)
  }),

  /** Make sure the signed-in user is loaded (once; a failure other than 401 is thrown to the page). */
  async ready(): Promise<void> {
    if (!state.token || state.user) return
    state.loading ??= loadUser()
    await state.loading
  },

  async signIn(token: string): Promise<void> {
    store(token)
    state.user = null
    await auth.ready()
  },

  /** Forget the token locally (after a 401, a password change, or logging out). */
  forget(): void {
    store(null)
    state.user = null
  },

  /** POST /users/logout (the token is revoked server-side), then forget it whatever the answer. */
  async signOut(): Promise<void> {
    try {
      if (state.token) await ok(api.POST('/users/logout'))
    } catch {
      // already invalid or offline: forgetting it locally is what matters to this browser
    }
    auth.forget()
  },

  setUser(user: User): void {
    state.user = user
  },
}

restore()
