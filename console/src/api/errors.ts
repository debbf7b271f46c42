// One error type for everything the API (or the network) can answer: pages show `detail`,
// forms mark `errors[field]`, and 429/503 carry `Retry-After` in seconds.
export type FieldErrors = Record<string, string[]>

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly detail: string
  readonly errors: FieldErrors
  readonly retryAfter: number | null

  constructor(status: number, code: string, detail: string, errors: FieldErrors = {}, retryAfter: number | null = null) {
    super(detail)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.detail = detail
    this.errors = errors
    this.retryAfter = retryAfter
  }

  /** The message(s) of one field, joined for display; '' when the field is fine. */
  field(name: string): string {
    return (this.errors[name] ?? []).join('；')
  }
}

const FALLBACK: Record<number, string> = {
  0: '网络连接失败，请检查网络后重试',
  401: '登录已失效，请重新登录',
  403: '没有权限执行此操作',
  404: '内容不存在或已删除',
  413: '文件太大',
  429: '操作太频繁，请稍后再试',
  503: '服务暂时不可用，请稍后再试',
}

function retryAfterOf(response: Response): number | null {
  const value = response.headers.get('Retry-After')
  if (!value) return null
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds))
  const date = Date.parse(value) // the HTTP-date form
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000))
}

/** Build the error from an answer and its parsed body (the contract's `{detail, code, errors}`). */
export function toApiError(response: Response, body: unknown): ApiError {
  const shaped = (body && typeof body === 'object' ? body : {}) as { detail?: unknown; code?: unknown; errors?: unknown }
  const detail = typeof shaped.detail === 'string' ? shaped.detail : (FALLBACK[response.status] ?? `请求失败（${response.status}）`)
  const code = typeof shaped.code === 'string' ? shaped.code : `http_${response.status}`
  const errors = shaped.errors && typeof shaped.errors === 'object' ? (shaped.errors as FieldErrors) : {}
  return new ApiError(response.status, code, detail, errors, retryAfterOf(response))
}

export function networkError(): ApiError {
  return new ApiError(0, 'network_error', FALLBACK[0])
}

/** Anything thrown while talking to the API, as an ApiError (a bug in a page shows too, not a blank). */
export function asApiError(thrown: unknown): ApiError {
  if (thrown instanceof ApiError) return thrown
  if (thrown instanceof TypeError) return networkError()
  return new ApiError(-1, 'client_error', thrown instanceof Error ? thrown.message : String(thrown))
}
