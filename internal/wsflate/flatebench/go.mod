module github.com/starling-ws/starling/internal/wsflate/flatebench

go 1.26.0

require (
	github.com/klauspost/compress v1.20.4
	github.com/starling-ws/starling v0.0.0
)

replace github.com/starling-ws/starling => ../../..
