// How a topic of each type is written (API.md §4, §9): choices live in the subject text
// ("题干？A. 选项 B. 选项 …", as the demo bank writes them), the key in `answer`: one letter
// (single choice), letters (multiple choice, "AC"), 正确/错误 (true/false), blanks separated by
// `|` with alternatives by `/` (fill in), free text (question and answer).
export const TOPIC_TYPES = [
  { value: 0, name: '单选题' },
  { value: 1, name: '多选题' },
  { value: 2, name: '判断题' },
  { value: 3, name: '填空题' },
  { value: 4, name: '问答题' },
] as const

export function typeName(type: number): string {
  return TOPIC_TYPES.find((t) => t.value === type)?.name ?? `题型 ${type}`
}

export const LETTERS = 'ABCDEFGH'
export const BLANK = '____'

/** Split "stem A. x B. y" into the stem and its options (none when fewer than two are found). */
export function splitOptions(subject: string): { stem: string; options: string[] } {
  const starts: { at: number; body: number }[] = []
  let from = 0
  for (const letter of LETTERS) {
    const pattern = new RegExp(`(^|[^A-Za-z0-9])${letter}\\s*[.．、:：]\\s*`, 'g')
    pattern.lastIndex = from
    const found = pattern.exec(subject)
    if (!found) break
    const at = found.index + found[1].length
    starts.push({ at, body: found.index + found[0].length })
    from = found.index + found[0].length
  }
  if (starts.length < 2) return { stem: subject, options: [] }
  const options = starts.map((s, i) => subject.slice(s.body, i + 1 < starts.length ? starts[i + 1].at : undefined).trim())
  return { stem: subject.slice(0, starts[0].at).trim(), options }
}

/** The subject of a choice topic: the stem, then each option after its letter. */
export function joinOptions(stem: string, options: string[]): string {
  const listed = options.map((o) => o.trim()).filter(Boolean)
  return [stem.trim(), ...listed.map((o, i) => `${LETTERS[i]}. ${o}`)].join(' ')
}

/** Letters of a multiple-choice key, whatever the separators ("A,C", "a c", "AC"). */
export function keyLetters(answer: string | null | undefined): string[] {
  return [...new Set((answer ?? '').toUpperCase().replace(/[^A-H]/g, '').split('').filter(Boolean))].sort()
}

/** How many blanks a fill-in subject has ("____" runs; at least one). */
export function blankCount(subject: string): number {
  return Math.max(1, (subject.match(/_{2,}|（\s*）|\(\s*\)/g) ?? []).length)
}

/** Fill-in key → blanks → alternatives, and back. */
export function splitBlanks(answer: string | null | undefined): string[][] {
  return (answer ?? '').split('|').map((blank) => blank.split('/').map((a) => a.trim()))
}

export function joinBlanks(blanks: string[][]): string {
  return blanks.map((alternatives) => alternatives.map((a) => a.trim()).filter(Boolean).join('/')).join('|')
}

export const TRUE_FALSE = ['正确', '错误'] as const
