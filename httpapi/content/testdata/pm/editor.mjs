// A TipTap 3 editor as Quire's front end runs it: StarterKit plus
// Collaboration (y-tiptap's sync plugin) on the XmlFragment "default".
import './dom.mjs'
import * as Y from 'yjs'
import { Editor } from '@tiptap/core'
import StarterKit from '@tiptap/starter-kit'
import Collaboration from '@tiptap/extension-collaboration'
import { yXmlFragmentToProsemirrorJSON } from 'y-prosemirror'

export function newEditor (ydoc, clientID) {
  ydoc = ydoc || new Y.Doc()
  if (clientID !== undefined) ydoc.clientID = clientID
  const element = document.createElement('div')
  document.body.appendChild(element)
  const editor = new Editor({
    element,
    extensions: [
      StarterKit.configure({ undoRedo: false }), // Collaboration brings its own undo
      Collaboration.configure({ document: ydoc, field: 'default' })
    ]
  })
  return { editor, ydoc }
}

// What y-prosemirror and TipTap read from a document.
export function snapshot ({ editor, ydoc }) {
  return {
    prosemirror: yXmlFragmentToProsemirrorJSON(ydoc.getXmlFragment('default')),
    tiptap: editor.getJSON(),
    html: editor.getHTML()
  }
}
