// Package httpapi is Quire's HTTP surface: REST, WebSocket endpoints,
// health, metrics and the embedded front end.
package httpapi
