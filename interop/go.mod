module github.com/starling-ws/starling/interop

go 1.26.0

replace github.com/starling-ws/starling => ../

require (
	github.com/coder/websocket v1.8.15
	github.com/gorilla/websocket v1.5.3
	github.com/starling-ws/starling v0.0.0-00010101000000-000000000000
)
