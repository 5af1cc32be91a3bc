/** Base URL of the server's WebSocket endpoints, same origin as the page. */
export function wsBase () {
  return (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host
}
