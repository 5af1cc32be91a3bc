// Runs y-websocket 1.5.4's reference server (bin/server.js, unchanged) and
// prints the address it bound, so that PORT=0 (a random port) can be used:
// "listening addr=127.0.0.1:<port>", the same line Quire logs.
const http = require('http')

const listen = http.Server.prototype.listen
http.Server.prototype.listen = function (...args) {
  this.once('listening', () => {
    const a = this.address()
    console.log(`listening addr=${a.address}:${a.port}`)
  })
  return listen.apply(this, args)
}
require('./node_modules/y-websocket/bin/server.js')
