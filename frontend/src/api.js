// Client for Quire's REST API (/api/v1, see COMMON.md). Every failure becomes an ApiError
// with a code and a message a person can act on; a server without the REST API yields
// code "api_unavailable" so pages can degrade instead of crashing.

export class ApiError extends Error {
  constructor (status, code, message) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
  }

  get unavailable () {
    return this.code === 'api_unavailable'
  }
}

const API_KEY_STORAGE = 'quire.apiKey'

/** The token from the page URL (?token=, a share link) wins over a stored API key. */
export function currentToken () {
  const fromUrl = new URLSearchParams(location.search).get('token')
  if (fromUrl) return fromUrl
  try {
    return localStorage.getItem(API_KEY_STORAGE) || ''
  } catch {
    return ''
  }
}

export function storeApiKey (key) {
  try {
    if (key) localStorage.setItem(API_KEY_STORAGE, key)
    else localStorage.removeItem(API_KEY_STORAGE)
  } catch { /* storage disabled: the key lasts for this page only */ }
}

/**
 * api('GET', '/docs', { query: { q: 'x' } }) -> parsed JSON (or text for raw responses).
 * body: object (sent as JSON) or string (sent as is, with contentType).
 */
export async function api (method, path, { query = null, body = undefined, contentType = null, raw = false, token = currentToken() } = {}) {
  let url = '/api/v1' + path
  if (query) {
    const params = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') params.set(k, String(v))
    }
    const qs = params.toString()
    if (qs) url += '?' + qs
  }
  const headers = { Accept: raw ? '*/*' : 'application/json' }
  if (token) headers.Authorization = 'Bearer ' + token
  let payload
  if (body !== undefined) {
    if (typeof body === 'string') {
      payload = body
      headers['Content-Type'] = contentType || 'text/plain; charset=utf-8'
    } else {
      payload = JSON.stringify(body)
      headers['Content-Type'] = 'application/json'
    }
  }
  let res
  try {
    res = await fetch(url, { method, headers, body: payload })
  } catch (err) {
    throw new ApiError(0, 'network_error', 'Could not reach the Quire server. Check your connection and try again.')
  }
  if (res.ok) {
    if (res.status === 204) return null
    if (raw) return res.text()
    const type = res.headers.get('Content-Type') || ''
    if (!type.includes('json')) {
      // The SPA handler answers unknown paths with HTML: the API is not mounted.
      throw unavailable()
    }
    return res.json()
  }
  let code = 'http_' + res.status
  let message = `The server answered ${res.status} ${res.statusText}.`
  const type = res.headers.get('Content-Type') || ''
  if (type.includes('json')) {
    try {
      const data = await res.json()
      if (data && data.error) {
        code = data.error.code || code
        message = data.error.message || message
      }
    } catch { /* keep the generic message */ }
  } else if (res.status === 404 || res.status === 405 || res.status === 501) {
    throw unavailable()
  }
  throw new ApiError(res.status, code, message)
}

function unavailable () {
  return new ApiError(404, 'api_unavailable', 'This Quire server does not provide the REST API (/api/v1) yet, so the document list, renaming, sharing and export are not available.')
}

let infoPromise = null
/** GET /api/v1/info, cached; { available: false } when the API is missing. */
export function serverInfo () {
  if (!infoPromise) {
    infoPromise = api('GET', '/info')
      .then(info => ({ available: true, auth_required: false, ...info }))
      .catch(err => ({ available: false, auth_required: false, error: err }))
  }
  return infoPromise
}
