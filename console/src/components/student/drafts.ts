// An exam's answers kept in this browser as they are typed, so a refresh, a crash or a lost
// connection loses nothing the server has not saved yet; and which assignments this browser saw
// submitted (the API has no "my attempt" read that doesn't start one, see AssignmentsPage).
export type Answers = Record<number, string>

interface Draft {
  answers: Answers
  /** true while some answer is newer than the last draft the server accepted */
  pending: boolean
}

const PREFIX = 'studyhub.draft.'
const SEEN = 'studyhub.submitted'

function read<T>(key: string): T | null {
  try {
    const raw = localStorage.getItem(key)
    return raw ? (JSON.parse(raw) as T) : null
  } catch {
    return null
  }
}

function write(key: string, value: unknown): void {
  try {
    if (value === null) localStorage.removeItem(key)
    else localStorage.setItem(key, JSON.stringify(value))
  } catch {
    // storage full or disabled: the server's draft is the only copy
  }
}

const draftKey = (user: number, assignment: number) => `${PREFIX}${user}.${assignment}`

export function loadDraft(user: number, assignment: number): Draft | null {
  return read<Draft>(draftKey(user, assignment))
}

export function keepDraft(user: number, assignment: number, answers: Answers, pending: boolean): void {
  write(draftKey(user, assignment), { answers, pending })
}

export function dropDraft(user: number, assignment: number): void {
  write(draftKey(user, assignment), null)
}

/** assignment id -> submission id, per user */
export function submittedOf(user: number): Record<number, number> {
  return read<Record<string, Record<number, number>>>(SEEN)?.[user] ?? {}
}

export function rememberSubmitted(user: number, assignment: number, submission: number): void {
  const all = read<Record<string, Record<number, number>>>(SEEN) ?? {}
  all[user] = { ...(all[user] ?? {}), [assignment]: submission }
  write(SEEN, all)
}
