// A refused roster answers `errors: {"line 7": [...], "file": [...]}` (API.md §3): shown in file
// order, line numbers compared as numbers, anything that is not a line first.
export interface LineError {
  where: string
  messages: string[]
}

const LINE = /^line (\d+)$/

export function lineErrors(errors: Record<string, string[]>): LineError[] {
  const rows = Object.entries(errors).map(([key, messages]) => {
    const line = LINE.exec(key)
    return { where: line ? `第 ${line[1]} 行` : key, messages, order: line ? Number(line[1]) : -1 }
  })
  rows.sort((a, b) => a.order - b.order)
  return rows.map(({ where, messages }) => ({ where, messages }))
}
