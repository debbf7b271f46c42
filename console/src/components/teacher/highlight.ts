// Search results carry `subject` as HTML: the text escaped, each matched term wrapped in
// exactly <span style='color:red;'>…</span> (API.md §4). We never hand that HTML to the DOM:
// it is split into plain-text segments (entities decoded) that the template renders as text,
// so whatever the subject contains can only ever show up as characters.
export interface Segment {
  text: string
  hit: boolean
}

const OPEN = "<span style='color:red;'>"
const CLOSE = '</span>'
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' }

export function decodeEntities(html: string): string {
  return html.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10)
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole
    }
    return NAMED[name.toLowerCase()] ?? whole
  })
}

export function highlightSegments(html: string): Segment[] {
  const out: Segment[] = []
  const push = (text: string, hit: boolean) => {
    if (!text) return
    const last = out[out.length - 1]
    if (last && last.hit === hit) last.text += text
    else out.push({ text, hit })
  }
  let rest = html
  while (rest) {
    const open = rest.indexOf(OPEN)
    if (open < 0) break
    const close = rest.indexOf(CLOSE, open + OPEN.length)
    if (close < 0) break
    push(decodeEntities(rest.slice(0, open)), false)
    push(decodeEntities(rest.slice(open + OPEN.length, close)), true)
    rest = rest.slice(close + CLOSE.length)
  }
  push(decodeEntities(rest), false)
  return out
}
