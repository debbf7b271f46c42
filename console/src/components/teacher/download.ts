// Save a blob the API answered (fetched with the token, so not a plain link) as a file.
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  document.body.appendChild(link)
  link.click()
  link.remove()
  // give the browser a moment to start the download before the URL goes away
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
