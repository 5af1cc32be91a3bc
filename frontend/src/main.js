// Entry point: picks the page from the path. Each page is its own chunk, so the document
// list does not download the editor.
import './styles.css'
import { banner } from './ui.js'

const root = document.getElementById('app')

function notFound () {
  document.title = 'Not found — Quire'
  root.innerHTML = ''
  const main = document.createElement('main')
  main.className = 'not-found'
  main.innerHTML = '<h1>Page not found</h1><p><a href="/">Go to your documents</a></p>'
  root.append(main)
}

async function start () {
  const path = location.pathname
  const doc = path.match(/^\/d\/([^/]+)\/?$/)
  try {
    if (path === '/' || path === '/index.html') {
      const { mount } = await import('./list.js')
      await mount(root)
    } else if (doc) {
      const { mount } = await import('./editor.js')
      await mount(root, decodeURIComponent(doc[1]))
    } else if (path === '/demo/cursors' || path === '/demo/cursors/') {
      const { mount } = await import('./cursors.js')
      await mount(root)
    } else {
      notFound()
    }
  } catch (err) {
    console.error(err)
    banner(`Something went wrong while opening this page: ${err.message}. Reload to try again.`, { key: 'fatal' })
  }
}

start()
