// What a topic's text tells the answer inputs: the lettered options of a choice question
// ("A. list B. dict C. tuple", in the subject or the description) and the blanks of a fill-in
// ("栈是一种____的线性表"). The contract has no option fields: the letters are the answer.
export interface Option {
  letter: string
  text: string
}

const MARKER = /(?:^|[^A-Za-z0-9])([A-H])\s*[.．、:：)）]\s*/g

export function optionsOf(...texts: (string | null | undefined)[]): Option[] {
  for (const text of texts) {
    if (!text) continue
    const marks = [...text.matchAll(MARKER)]
    const letters = marks.map((m) => m[1])
    // only a run A, B, C… in order counts as options (not a stray "A." inside a sentence)
    if (letters.length < 2 || letters.some((l, i) => l !== String.fromCharCode(65 + i))) continue
    return marks.map((m, i) => {
      const start = (m.index ?? 0) + m[0].length
      const end = i + 1 < marks.length ? (marks[i + 1].index ?? text.length) : text.length
      return { letter: m[1], text: text.slice(start, end).trim() }
    })
  }
  return ['A', 'B', 'C', 'D'].map((letter) => ({ letter, text: '' }))
}

/** How many blanks a fill-in has: runs of underscores or empty brackets, at least one. */
export function blanksOf(subject: string): number {
  const found = subject.match(/_{2,}|＿{2,}|（\s*）|\(\s*\)/g)
  return Math.max(1, found?.length ?? 0)
}

export const TYPE_NAMES = ['单选题', '多选题', '判断题', '填空题', '问答题'] as const

export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? '题目'
}
