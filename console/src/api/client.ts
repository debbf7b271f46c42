// The typed API client: paths and bodies come from the contract (schema.d.ts is generated from
// layers/common/studyhub/data/openapi.json by `npm run types`), so a contract change that breaks
// a page breaks the build. Same origin, base `/api`, `Authorization: Bearer <token>`.
import createClient, { type Middleware } from 'openapi-fetch'
import type { components, paths } from './schema'
import { ApiError, networkError, toApiError } from './errors'

export type Schemas = components['schemas']
export const API_BASE = '/api'

let token: string | null = null
let onUnauthorized: (error: ApiError) => void = () => {}

export function setToken(value: string | null): void {
  token = value
}

/** Called with every 401 on a request that carried a token (the auth store logs out). */
export function setUnauthorizedHandler(handler: (error: ApiError) => void): void {
  onUnauthorized = handler
}

export function authHeaders(): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {}
}

const auth: Middleware = {
  onRequest({ request }) {
    if (token && !request.headers.has('Authorization')) request.headers.set('Authorization', `Bearer ${token}`)
    return request
  },
}

export const api = createClient<paths>({ baseUrl: API_BASE })
api.use(auth)

type Answer<T> = { data?: T; error?: unknown; response: Response }

/**
 * Await an `api.GET/POST/...` call and return its data, or throw an ApiError built from the
 * contract's error body. Usage: `const page = await ok(api.GET('/users/address', { params: { query: { page: 1 } } }))`.
 */
export async function ok<T>(request: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>
  try {
    answer = await request
  } catch {
    throw networkError()
  }
  const { response } = answer
  if (response.ok) return answer.data as T
  const error = toApiError(response, answer.error)
  if (response.status === 401 && token) onUnauthorized(error)
  throw error
}

/**
 * A multipart upload with progress (fetch can't report upload progress): `path` under /api,
 * `onProgress` gets 0..1. Resolves with the parsed JSON body, throws an ApiError otherwise.
 */
export function upload<T>(path: string, form: FormData, onProgress?: (fraction: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', API_BASE + path)
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value)
    xhr.responseType = 'text'
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total)
    }
    xhr.onerror = () => reject(networkError())
    xhr.onload = () => {
      let body: unknown = null
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null
      } catch {
        body = null
      }
      if (xhr.status < 200) {
        reject(networkError())
        return
      }
      if (xhr.status < 300) {
        onProgress?.(1)
        resolve(body as T)
        return
      }
      const headers = new Headers()
      const retry = xhr.getResponseHeader('Retry-After')
      if (retry) headers.set('Retry-After', retry)
      const error = toApiError(new Response(null, { status: xhr.status, headers }), body)
      if (xhr.status === 401 && token) onUnauthorized(error)
      reject(error)
    }
    xhr.send(form)
  })
}

/** The captcha image's URL for a client-made id (see docs/api-guide.md, Signing in). */
export function captchaUrl(uuid: string): string {
  return `${API_BASE}/users/image/verification/${uuid}`
}

/** A random UUID without `crypto.randomUUID` (missing on plain-http school LAN addresses). */
export function newUuid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[6] = (bytes[6] & 0x0f) | 0x40
  bytes[8] = (bytes[8] & 0x3f) | 0x80
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
