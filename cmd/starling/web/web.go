// Package web holds the chat page that "starling serve" serves at "/",
// embedded so that the binary needs nothing else installed.
package web

import "embed"

// FS holds index.html, chat.js and style.css.
//
//go:embed index.html chat.js style.css
var FS embed.FS
