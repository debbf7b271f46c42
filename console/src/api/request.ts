// What every page does around a request: a busy flag for the button or spinner, the error to
// show where it happened, and the per-field messages of a 400.
import { ref, shallowRef, type Ref } from 'vue'
import { ApiError, asApiError } from './errors'

export function useRequest() {
  const busy = ref(false)
  const error = shallowRef<ApiError | null>(null)

  async function run<T>(action: () => Promise<T>): Promise<T | undefined> {
    busy.value = true
    error.value = null
    try {
      return await action()
    } catch (thrown) {
      error.value = asApiError(thrown)
      return undefined
    } finally {
      busy.value = false
    }
  }

  /** The message of one field of the last 400 ('' when none). */
  const fieldError = (name: string): string => error.value?.field(name) ?? ''

  return { busy, error, run, fieldError }
}

/** Data a page loads on open (and again with `reload`): `loading` until the first answer. */
export function useLoader<T>(load: () => Promise<T>, immediate = true) {
  const data = shallowRef<T | null>(null) as Ref<T | null>
  const { busy: loading, error, run } = useRequest()

  async function reload(): Promise<void> {
    const result = await run(load)
    if (result !== undefined) data.value = result
  }

  if (immediate) void reload()
  return { data, loading, error, reload }
}
