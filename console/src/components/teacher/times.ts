// <input type="datetime-local"> speaks local wall time without an offset; the API wants ISO 8601
// with one (API.md §1). Both directions in the browser's own time zone.
const pad = (n: number) => String(n).padStart(2, '0')

export function toLocalInput(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`
}

export function isoFromLocalInput(value: string): string {
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) return value
  const offset = -date.getTimezoneOffset()
  const sign = offset >= 0 ? '+' : '-'
  const hours = pad(Math.floor(Math.abs(offset) / 60))
  return `${toLocalInput(date)}:00${sign}${hours}:${pad(Math.abs(offset) % 60)}`
}
